# The models of the paper: every dataset trains all four; Table 1 evaluates the generators.
MODELS = ["vae", "cvae", "discvae", "regressor"]
GENERATORS = ["vae", "cvae", "discvae"]

# Package sources every stage runs (the CLI, parameters, atomic writes, errors) ...
BASE = [
    "src/attr2img/__init__.py",
    "src/attr2img/atomic.py",
    "src/attr2img/cli.py",
    "src/attr2img/errors.py",
    "src/attr2img/params.py",
    "src/attr2img/schemas/params.schema.yaml",
]
# ... and those of every stage that reads a processed dataset. A change reruns the stage.
CORE = BASE + [
    "src/attr2img/data/__init__.py",
    "src/attr2img/data/fmt.py",
]

wildcard_constraints:
    dataset="|".join(config["datasets"]),
    model="|".join(MODELS),


# What one job of each kind asks for (params.yaml `resources`): threads (capped at --cores
# locally) and resources mem_mb, runtime (minutes) and gpu, which the Slurm executor turns
# into --mem, -t and --gpus. Kinds: train, inference, default (everything else).
def threads_of(kind):
    return config["resources"][kind]["threads"]


def resources_of(kind):
    return {k: v for k, v in config["resources"][kind].items() if k != "threads"}
