rule overview:
    input:
        "data/processed/{dataset}",
        CORE,
        "src/attr2img/figures/__init__.py",
        "src/attr2img/figures/common.py",
        "src/attr2img/figures/overview.py",
    output:
        "results/figures/overview-{dataset}.png",
    params:
        cfg=config["figures"]["overview"],
    shell:
        "attr2img overview --params params.yaml --data data/processed/{wildcards.dataset} --out {output}"
