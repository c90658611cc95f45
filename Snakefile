# Thin Snakemake front-end over the attr2img CLI: the same stages, commands, inputs and
# outputs as dvc.yaml (tests/test_dag.py proves it). Parameters come from params.yaml,
# validated against workflow/schemas/params.schema.yaml before any rule runs.
#
#   snakemake --cores 2                                    # the default (synthetic) run
#   snakemake --cores 2 --config 'datasets=[lfw, cub]'     # the real datasets

from attr2img.params import check_snakemake_config

configfile: "params.yaml"


check_snakemake_config(config, "params.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"


rule all:
    input:
        expand("results/figures/overview-{dataset}.png", dataset=config["datasets"]),
        expand("results/figures/occluders-{dataset}.png", dataset=config["datasets"]),
        expand("models/{dataset}/{model}", dataset=config["datasets"], model=MODELS),
        "results/tables/table1.md",
        "results/report.md",
