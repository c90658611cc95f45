rule overview:
    input:
        "data/processed/{dataset}",
        SRC["overview"],
    output:
        "results/figures/overview-{dataset}.png",
    params:
        **P("figures.overview"),
    log:
        "logs/overview/{dataset}.log",
    threads: threads_of("default")
    resources:
        **resources_of("default"),
    shell:
        "attr2img overview --params params.yaml --data data/processed/{wildcards.dataset} --out {output} 2> {log}"


rule occluders:
    input:
        "data/processed/{dataset}",
        SRC["occluders"],
    output:
        "results/figures/occluders-{dataset}.png",
    params:
        **P("inference.occluders.{dataset}", "inference.seed"),
    log:
        "logs/occluders/{dataset}.log",
    threads: threads_of("default")
    resources:
        **resources_of("default"),
    shell:
        "attr2img occluders --params params.yaml --dataset {wildcards.dataset} --data data/processed/{wildcards.dataset}"
        " --out {output} 2> {log}"


rule figure3:
    input:
        "data/processed/{dataset}",
        "models/{dataset}/cvae",
        "models/{dataset}/discvae",
        SRC["figure3"],
    output:
        "results/figures/figure3-{dataset}.png",
    params:
        **P("figures.seed"),
    log:
        "logs/figure3/{dataset}.log",
    threads: threads_of("default")
    resources:
        **resources_of("default"),
    shell:
        "attr2img figure3 --params params.yaml --dataset {wildcards.dataset} --data data/processed/{wildcards.dataset}"
        " --cvae models/{wildcards.dataset}/cvae --discvae models/{wildcards.dataset}/discvae --out {output} 2> {log}"


rule figure4:
    input:
        "data/processed/{dataset}",
        "models/{dataset}/discvae",
        SRC["figure4"],
    output:
        "results/figures/figure4-{dataset}.png",
    params:
        **P("figures.seed"),
    log:
        "logs/figure4/{dataset}.log",
    threads: threads_of("default")
    resources:
        **resources_of("default"),
    shell:
        "attr2img figure4 --params params.yaml --dataset {wildcards.dataset} --data data/processed/{wildcards.dataset}"
        " --discvae models/{wildcards.dataset}/discvae --out {output} 2> {log}"


rule figure5:
    input:
        "data/processed/{dataset}",
        "models/{dataset}/discvae",
        SRC["figure5"],
    output:
        "results/figures/figure5-{dataset}.png",
    params:
        **P("figures.seed"),
    log:
        "logs/figure5/{dataset}.log",
    threads: threads_of("default")
    resources:
        **resources_of("default"),
    shell:
        "attr2img figure5 --params params.yaml --dataset {wildcards.dataset} --data data/processed/{wildcards.dataset}"
        " --discvae models/{wildcards.dataset}/discvae --out {output} 2> {log}"


rule figure6:
    input:
        "data/processed/{dataset}",
        expand("results/inference/{{dataset}}/{model}.npz", model=GENERATORS),
        SRC["figure6"],
    output:
        "results/figures/figure6-{dataset}.png",
    params:
        **P("inference.occluders.{dataset}"),
    log:
        "logs/figure6/{dataset}.log",
    threads: threads_of("default")
    resources:
        **resources_of("default"),
    shell:
        "attr2img figure6 --params params.yaml --dataset {wildcards.dataset} --data data/processed/{wildcards.dataset}"
        " --examples results/inference/{wildcards.dataset} --out {output} 2> {log}"


rule report:
    input:
        expand("data/processed/{dataset}", dataset=config["datasets"]),
        "results/tables/table1.md",
        "results/tables/table2.md",
        "results/tables/table1.csv",
        "results/tables/table2.csv",
        expand("results/metrics/table1/{dataset}/{model}.json", dataset=config["datasets"], model=GENERATORS),
        expand("results/metrics/table2/{dataset}.json", dataset=config["datasets"]),
        expand("results/metrics/edits/{dataset}.json", dataset=config["datasets"]),
        "results/metrics/claims.json",
        expand("results/figures/{stem}-{dataset}.png", dataset=config["datasets"],
               stem=["overview", "occluders", "figure3", "figure4", "figure5", "figure6"]),
        expand("results/plots/train/{dataset}/{model}.tsv", dataset=config["datasets"], model=MODELS),
        "docs/noise_floor.json",
        "docs/oracle_generator.json",
        SRC["report"],
    params:
        **P("*"),
    output:
        "results/report.md",
        "results/report.html",
    log:
        "logs/report.log",
    threads: threads_of("default")
    resources:
        **resources_of("default"),
    shell:
        "attr2img report --params params.yaml --tables results/tables --metrics results/metrics"
        " --figures results/figures --data data/processed --plots results/plots/train"
        " --noise-floor docs/noise_floor.json --oracle docs/oracle_generator.json"
        " --out results/report.md --html results/report.html 2> {log}"
