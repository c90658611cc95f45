import copy
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
from attr2img.catalog import GENERATORS, MODELS  # noqa: F401  (re-exported to the tests)


def load_benchmark(name: str):
    """A script of benchmarks/ as a module (they are scripts, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def stop_after(epoch: int):
    """A training callback that interrupts the run after ``epoch`` epochs, as Ctrl-C would."""
    def callback(done: int, row: dict) -> None:
        if done == epoch:
            raise KeyboardInterrupt(f"stopped after epoch {done}")
    return callback


@pytest.fixture(autouse=True)
def _no_datasets_override():
    """Snakemake's --config datasets reach the jobs through an environment variable that the
    Snakefile sets; a test that runs a Snakefile in this process must not leak it to the next."""
    from attr2img.params import DATASETS_ENV

    os.environ.pop(DATASETS_ENV, None)
    yield
    os.environ.pop(DATASETS_ENV, None)


@pytest.fixture(scope="session")
def default_params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def tiny(params: dict) -> dict:
    """The default parameters shrunk to a few images per split."""
    p = copy.deepcopy(params)
    for name in ("synth-faces", "synth-birds"):
        p["data"][name].update(n_train=24, n_val=8, n_test=8)
    p["figures"]["overview"]["n_examples"] = 4
    p["train"].update(batch_size=8, epochs={d: {"vae": 2, "cvae": 2, "discvae": 2, "regressor": 2}
                                            for d in ("synth-faces", "synth-birds")})
    p["model"]["width"] = 0.125
    p["inference"].update(n_test=4, batch_size=4, iterations=3, n_examples=2)
    p["table2"].update(n_test=4, n_samples=2, batch_size=4)
    p["edits"].update(n_draws=4, steps=3, n_vary=3)
    p["regressor"].update(width=0.125, batch_size=8)
    small = {"threads": 1, "mem_mb": 1000, "runtime": 10, "gpu": 0}
    p["resources"] = {"default": small, "train": {**small, "threads": 2}, "inference": {**small, "threads": 2}}
    return p


@pytest.fixture(scope="session")
def tiny_params(default_params) -> dict:
    return tiny(default_params)


@pytest.fixture
def tiny_params_file(tmp_path, tiny_params) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(tiny_params, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def tiny_datasets(tmp_path_factory, tiny_params) -> dict:
    """Both synthetic datasets, prepared once per test session on tiny parameters."""
    from attr2img.data import prepare

    root = tmp_path_factory.mktemp("processed")
    return {name: (prepare.run(name, tiny_params, root / name), root / name)
            for name in ("synth-faces", "synth-birds")}


def make_workspace(dest: Path, params: dict) -> Path:
    """A git repository holding the workflow (front-ends, params, package sources) and DVC."""
    dest.mkdir(parents=True, exist_ok=True)
    for item in ("Snakefile", "dvc.yaml", "workflow", "src", ".dvcignore", "docs/noise_floor.json",
                 "docs/oracle_generator.json"):
        src = ROOT / item
        (dest / item).parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest / item, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif src.exists():
            shutil.copy2(src, dest / item)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run = lambda *cmd: subprocess.run(cmd, cwd=dest, check=True, capture_output=True)  # noqa: E731
    run("git", "init", "-q")
    run("dvc", "init", "-q")
    return dest


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, tiny_datasets, tiny_params) -> dict:
    """All four models trained for one epoch on each tiny dataset: {dataset: (models root, data dir)}."""
    from attr2img.train.loop import train

    p = copy.deepcopy(tiny_params)
    p["train"]["device"] = "cpu"
    p["train"]["epochs"] = {d: {k: 1 for k in m} for d, m in p["train"]["epochs"].items()}
    out = {}
    for dataset, (_, data) in tiny_datasets.items():
        root = tmp_path_factory.mktemp(f"models-{dataset}")
        for model in MODELS:
            train(model, data, root / model, p, dataset, root / f"{model}.tsv", root / "ckpt" / model)
        out[dataset] = (root, data)
    return out
