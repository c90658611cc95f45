INFERENCE_SRC = CORE + [
    "src/attr2img/data/loader.py",
    "src/attr2img/device.py",
    "src/attr2img/models/__init__.py",
    "src/attr2img/models/config.py",
    "src/attr2img/models/cvae.py",
    "src/attr2img/models/discvae.py",
    "src/attr2img/models/nets.py",
    "src/attr2img/models/regressor.py",
    "src/attr2img/models/store.py",
    "src/attr2img/inference/__init__.py",
]


rule evaluate_recon:
    input:
        "data/processed/{dataset}",
        "models/{dataset}/{model}",
        INFERENCE_SRC,
        "src/attr2img/data/backgrounds.py",
        "src/attr2img/data/raster.py",
        "src/attr2img/data/synth_faces.py",
        "src/attr2img/inference/occluders.py",
        "src/attr2img/inference/posterior.py",
        "src/attr2img/inference/reconstruct.py",
    output:
        "results/inference/{dataset}/{model}.npz",
        "results/metrics/table1/{dataset}/{model}.json",
    wildcard_constraints:
        model="|".join(GENERATORS),
    params:
        inference=config["inference"],
    log:
        "logs/evaluate_recon/{dataset}/{model}.log",
    threads: threads_of("inference")
    resources:
        **resources_of("inference"),
    shell:
        "attr2img evaluate-recon --params params.yaml --dataset {wildcards.dataset}"
        " --model-dir models/{wildcards.dataset}/{wildcards.model} --data data/processed/{wildcards.dataset}"
        " --metrics results/metrics/table1/{wildcards.dataset}/{wildcards.model}.json"
        " --examples results/inference/{wildcards.dataset}/{wildcards.model}.npz 2> {log}"


rule evaluate_attributes:
    input:
        "data/processed/{dataset}",
        "models/{dataset}/regressor",
        "models/{dataset}/cvae",
        "models/{dataset}/discvae",
        INFERENCE_SRC,
        "src/attr2img/inference/attributes.py",
        "src/attr2img/ops.py",
    output:
        "results/metrics/table2/{dataset}.json",
    params:
        table2=config["table2"],
    log:
        "logs/evaluate_attributes/{dataset}.log",
    threads: threads_of("inference")
    resources:
        **resources_of("inference"),
    shell:
        "attr2img evaluate-attributes --params params.yaml --dataset {wildcards.dataset} --data data/processed/{wildcards.dataset}"
        " --regressor models/{wildcards.dataset}/regressor --cvae models/{wildcards.dataset}/cvae"
        " --discvae models/{wildcards.dataset}/discvae --metrics results/metrics/table2/{wildcards.dataset}.json 2> {log}"


rule tables:
    input:
        expand("results/metrics/table1/{dataset}/{model}.json", dataset=config["datasets"], model=GENERATORS),
        expand("results/metrics/table2/{dataset}.json", dataset=config["datasets"]),
        BASE,
        "src/attr2img/inference/__init__.py",
        "src/attr2img/inference/tables.py",
    output:
        "results/tables/table1.md",
        "results/tables/table1.csv",
        "results/tables/table2.md",
        "results/tables/table2.csv",
    log:
        "logs/tables.log",
    threads: threads_of("default")
    resources:
        **resources_of("default"),
    shell:
        "attr2img tables --params params.yaml --table1 results/metrics/table1 --table2 results/metrics/table2"
        " --out results/tables 2> {log}"
