from attr2img.catalog import GENERATORS, MODELS
from attr2img.cli import DAG_STAGES
from attr2img.sources import module_sources

# Package sources each stage runs, read from this working tree's imports (`python -m
# attr2img.deps` prints the same lists, which dvc.yaml spells out): a change reruns the
# stages that import it, and no other.
SRC = {stage: module_sources(module) for stage, module in DAG_STAGES.items()}

wildcard_constraints:
    dataset="|".join(config["datasets"]),
    model="|".join(MODELS),


def P(*keys):
    """The params.yaml keys a rule reads (those dvc.yaml lists for its stage), as params named by
    their dotted key with wildcards in braces: a changed value reruns the job. "*" is the whole file."""

    def value(key):
        def get(wildcards):
            node = config
            if key == "*":
                return node
            for part in key.format(**wildcards).split("."):
                node = node[part]
            return node

        return get

    return {key: value(key) for key in keys}


# What one job of each kind asks for (params.yaml `resources`): threads (capped at --cores
# locally) and resources mem_mb, runtime (minutes) and gpu, which the Slurm executor turns
# into --mem, -t and --gpus. Kinds: train, inference, default (everything else).
def threads_of(kind):
    return config["resources"][kind]["threads"]


def resources_of(kind):
    return {k: v for k, v in config["resources"][kind].items() if k != "threads"}
