# Package sources shared by every stage: a change to any of them reruns the stage.
CORE = [
    "src/attr2img/__init__.py",
    "src/attr2img/atomic.py",
    "src/attr2img/cli.py",
    "src/attr2img/params.py",
    "src/attr2img/schemas/params.schema.yaml",
    "src/attr2img/data/__init__.py",
    "src/attr2img/data/fmt.py",
]

wildcard_constraints:
    dataset="|".join(config["datasets"]),
