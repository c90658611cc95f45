rule train:
    input:
        "data/processed/{dataset}",
        CORE,
        "src/attr2img/data/loader.py",
        "src/attr2img/device.py",
        "src/attr2img/models/__init__.py",
        "src/attr2img/models/config.py",
        "src/attr2img/models/cvae.py",
        "src/attr2img/models/discvae.py",
        "src/attr2img/models/nets.py",
        "src/attr2img/models/regressor.py",
        "src/attr2img/models/store.py",
        "src/attr2img/ops.py",
        "src/attr2img/train/__init__.py",
        "src/attr2img/train/augment.py",
        "src/attr2img/train/distributed.py",
        "src/attr2img/train/loop.py",
        "src/attr2img/train/step.py",
    output:
        directory("models/{dataset}/{model}"),
        "results/plots/train/{dataset}/{model}.tsv",
    params:
        model=config["model"],
        train=config["train"],
    log:
        "logs/train/{dataset}/{model}.log",
    threads: threads_of("train")
    resources:
        **resources_of("train"),
    shell:
        "attr2img train --params params.yaml --dataset {wildcards.dataset} --model {wildcards.model}"
        " --data data/processed/{wildcards.dataset} --out models/{wildcards.dataset}/{wildcards.model}"
        " --log results/plots/train/{wildcards.dataset}/{wildcards.model}.tsv"
        " --checkpoints checkpoints/{wildcards.dataset}/{wildcards.model} 2> {log}"
