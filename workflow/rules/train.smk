# The generators, in two rules that differ only in the model keys they depend on (those each model
# reads: attr2img.models.config.READS), as in dvc.yaml; the train keys, the recipe, are the same.
TRAIN_KEYS = ("train.seed", "train.device", "train.threads", "train.batch_size", "train.lr", "train.lr_schedule",
              "train.weight_decay", "train.kl_warmup", "train.checkpoint_every", "train.cuda_graph", "train.cpu_precision",
              "train.epochs.{dataset}.{model}",
              "train.augment.{dataset}")


rule train:
    input:
        "data/processed/{dataset}",
        SRC["train"],
    output:
        directory("models/{dataset}/{model}"),
        "results/plots/train/{dataset}/{model}.tsv",
    params:
        **P("model.width", "model.dropout", "model.recon_loss", "model.kl_weight", "model.latent.{dataset}.z",
            *TRAIN_KEYS),
    log:
        # the run record (seconds, device, git revision, host) differs between identical runs:
        # a log, not an output, as in dvc.yaml
        "logs/train/{dataset}/{model}.log",
        run="results/runs/{dataset}/{model}.json",
    wildcard_constraints:
        model="|".join(m for m in GENERATORS if m != "discvae"),
    threads: threads_of("train")
    resources:
        **resources_of("train"),
    shell:
        "attr2img train --params params.yaml --dataset {wildcards.dataset} --model {wildcards.model}"
        " --data data/processed/{wildcards.dataset} --out models/{wildcards.dataset}/{wildcards.model}"
        " --log results/plots/train/{wildcards.dataset}/{wildcards.model}.tsv"
        " --checkpoints checkpoints/{wildcards.dataset}/{wildcards.model}"
        " --run-record results/runs/{wildcards.dataset}/{wildcards.model}.json 2> {log[0]}"


rule train_discvae:
    input:
        "data/processed/{dataset}",
        SRC["train"],
    output:
        directory("models/{dataset}/discvae"),
        "results/plots/train/{dataset}/discvae.tsv",
    params:
        **P("model.width", "model.dropout", "model.recon_loss", "model.kl_weight", "model.gate_weight",
            "model.latent.{dataset}.z_fg", "model.latent.{dataset}.z_bg",
            *(key.replace("{model}", "discvae") for key in TRAIN_KEYS)),
    log:
        "logs/train/{dataset}/discvae.log",
        run="results/runs/{dataset}/discvae.json",
    threads: threads_of("train")
    resources:
        **resources_of("train"),
    shell:
        "attr2img train --params params.yaml --dataset {wildcards.dataset} --model discvae"
        " --data data/processed/{wildcards.dataset} --out models/{wildcards.dataset}/discvae"
        " --log results/plots/train/{wildcards.dataset}/discvae.tsv"
        " --checkpoints checkpoints/{wildcards.dataset}/discvae"
        " --run-record results/runs/{wildcards.dataset}/discvae.json 2> {log[0]}"


# The attribute regressor: the same command, with a recipe of its own (params.yaml `regressor`),
# so that the generators' recipe does not retrain it and back.
rule train_regressor:
    input:
        "data/processed/{dataset}",
        SRC["train"],
    output:
        directory("models/{dataset}/regressor"),
        "results/plots/train/{dataset}/regressor.tsv",
    params:
        **P("regressor", "train.seed", "train.device", "train.threads", "train.checkpoint_every",
            "train.cuda_graph", "train.epochs.{dataset}.regressor"),
    log:
        "logs/train/{dataset}/regressor.log",
        run="results/runs/{dataset}/regressor.json",
    threads: threads_of("train")
    resources:
        **resources_of("train"),
    shell:
        "attr2img train --params params.yaml --dataset {wildcards.dataset} --model regressor"
        " --data data/processed/{wildcards.dataset} --out models/{wildcards.dataset}/regressor"
        " --log results/plots/train/{wildcards.dataset}/regressor.tsv"
        " --checkpoints checkpoints/{wildcards.dataset}/regressor"
        " --run-record results/runs/{wildcards.dataset}/regressor.json 2> {log[0]}"
