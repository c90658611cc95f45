rule fetch:
    # the files go to resources/<dataset>/<source>/ (kept across runs: a partial download
    # resumes, files put in by hand stay); the output is the record of what was verified
    input:
        SRC["fetch"],
    params:
        **P("fetch.accept"),
    output:
        "resources/{dataset}/fetched.json",
    log:
        "logs/fetch/{dataset}.log",
    threads: threads_of("default")
    resources:
        **resources_of("default"),
    shell:
        "attr2img fetch --params params.yaml --dataset {wildcards.dataset} --out resources/{wildcards.dataset} 2> {log}"


rule prepare:
    input:
        SRC["prepare"],
        fetched="resources/{dataset}/fetched.json",
    output:
        directory("data/processed/{dataset}"),
    params:
        **P("data.{dataset}"),
    log:
        "logs/prepare/{dataset}.log",
    threads: threads_of("default")
    resources:
        **resources_of("default"),
    shell:
        "attr2img prepare --params params.yaml --dataset {wildcards.dataset} --fetched {input.fetched} --out {output} 2> {log}"
