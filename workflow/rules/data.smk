rule fetch:
    # the files go to resources/<dataset>/<source>/ (kept across runs: a partial download
    # resumes, files put in by hand stay); the output is the record of what was verified
    input:
        BASE,
        "src/attr2img/data/__init__.py",
        "src/attr2img/data/fetch.py",
    output:
        "resources/{dataset}/fetched.json",
    log:
        "logs/fetch/{dataset}.log",
    threads: threads_of("default")
    resources:
        **resources_of("default"),
    shell:
        "attr2img fetch --dataset {wildcards.dataset} --out resources/{wildcards.dataset} 2> {log}"


rule prepare:
    input:
        "resources/{dataset}/fetched.json",
        CORE,
        "src/attr2img/data/backgrounds.py",
        "src/attr2img/data/cub.py",
        "src/attr2img/data/lfw.py",
        "src/attr2img/data/partlabels.py",
        "src/attr2img/data/prepare.py",
        "src/attr2img/data/raster.py",
        "src/attr2img/data/readimg.py",
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
        "attr2img prepare --params params.yaml --dataset {wildcards.dataset} --fetched {input[0]} --out {output} 2> {log}"
