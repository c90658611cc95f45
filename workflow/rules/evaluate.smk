rule evaluate_recon:
    input:
        "data/processed/{dataset}",
        "models/{dataset}/{model}",
        SRC["evaluate-recon"],
    output:
        "results/inference/{dataset}/{model}.npz",
        "results/metrics/table1/{dataset}/{model}.json",
    wildcard_constraints:
        model="|".join(GENERATORS),
    params:
        **P("inference", "train.device", "train.threads"),
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
        SRC["evaluate-attributes"],
    output:
        "results/metrics/table2/{dataset}.json",
        "results/inference/{dataset}/table2.npz",
    params:
        **P("table2", "train.device", "train.threads"),
    log:
        "logs/evaluate_attributes/{dataset}.log",
    threads: threads_of("inference")
    resources:
        **resources_of("inference"),
    shell:
        "attr2img evaluate-attributes --params params.yaml --dataset {wildcards.dataset} --data data/processed/{wildcards.dataset}"
        " --regressor models/{wildcards.dataset}/regressor --cvae models/{wildcards.dataset}/cvae"
        " --discvae models/{wildcards.dataset}/discvae --metrics results/metrics/table2/{wildcards.dataset}.json"
        " --per-vector results/inference/{wildcards.dataset}/table2.npz 2> {log}"


rule evaluate_edits:
    input:
        "data/processed/{dataset}",
        "models/{dataset}/regressor",
        "models/{dataset}/discvae",
        SRC["evaluate-edits"],
    output:
        "results/inference/{dataset}/edits.npz",
        "results/metrics/edits/{dataset}.json",
    params:
        **P("edits", "train.device", "train.threads"),
    log:
        "logs/evaluate_edits/{dataset}.log",
    threads: threads_of("inference")
    resources:
        **resources_of("inference"),
    shell:
        "attr2img evaluate-edits --params params.yaml --dataset {wildcards.dataset} --data data/processed/{wildcards.dataset}"
        " --regressor models/{wildcards.dataset}/regressor --discvae models/{wildcards.dataset}/discvae"
        " --out results/inference/{wildcards.dataset}/edits.npz --metrics results/metrics/edits/{wildcards.dataset}.json"
        " 2> {log}"


rule claims:
    input:
        expand("results/inference/{dataset}/{model}.npz", dataset=config["datasets"], model=GENERATORS),
        expand("results/inference/{dataset}/table2.npz", dataset=config["datasets"]),
        expand("results/inference/{dataset}/edits.npz", dataset=config["datasets"]),
        SRC["claims"],
    output:
        "results/metrics/claims.json",
    params:
        **P("datasets"),
    log:
        "logs/claims.log",
    threads: threads_of("default")
    resources:
        **resources_of("default"),
    shell:
        "attr2img claims --params params.yaml --inference results/inference --out results/metrics/claims.json 2> {log}"


rule tables:
    input:
        expand("results/metrics/table1/{dataset}/{model}.json", dataset=config["datasets"], model=GENERATORS),
        expand("results/metrics/table2/{dataset}.json", dataset=config["datasets"]),
        SRC["tables"],
    output:
        "results/tables/table1.md",
        "results/tables/table1.csv",
        "results/tables/table2.md",
        "results/tables/table2.csv",
    params:
        **P("datasets"),
    log:
        "logs/tables.log",
    threads: threads_of("default")
    resources:
        **resources_of("default"),
    shell:
        "attr2img tables --params params.yaml --table1 results/metrics/table1 --table2 results/metrics/table2"
        " --out results/tables 2> {log}"
