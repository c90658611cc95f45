rule prepare:
    input:
        CORE,
        "src/attr2img/data/backgrounds.py",
        "src/attr2img/data/prepare.py",
        "src/attr2img/data/raster.py",
        "src/attr2img/data/synth.py",
        "src/attr2img/data/synth_birds.py",
        "src/attr2img/data/synth_faces.py",
    output:
        directory("data/processed/{dataset}"),
    params:
        cfg=lambda w: config["data"][w.dataset],
    log:
        "logs/prepare/{dataset}.log",
    threads: threads_of("default")
    resources:
        **resources_of("default"),
    shell:
        "attr2img prepare --params params.yaml --dataset {wildcards.dataset} --out {output} 2> {log}"
