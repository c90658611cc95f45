"""End to end: `dvc repro` and `snakemake --cores 2` run the tiny profile in fresh git repos."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MODELS, make_workspace

pytestmark = pytest.mark.slow
ENV = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def run(ws, *cmd):
    res = subprocess.run(cmd, cwd=ws, env=ENV, capture_output=True, text=True)
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout}\n{res.stderr}"
    return res.stdout + res.stderr


def outputs(ws, params):
    out = {}
    for d in params["datasets"]:
        out[d] = (json.loads((ws / "data/processed" / d / "card.json").read_text())["checksum"],
                  (ws / "results/figures" / f"overview-{d}.png").read_bytes())
        for m in MODELS:
            # same weights from both engines (training on the CPU is deterministic)
            out[d, m] = (ws / "models" / d / m / "model.safetensors").read_bytes()
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from conftest import ROOT, tiny
    import yaml

    params = tiny(yaml.safe_load((ROOT / "params.yaml").read_text()))
    params["train"]["device"] = "cpu"
    dvc_ws = make_workspace(tmp_path_factory.mktemp("dvc"), params)
    smk_ws = make_workspace(tmp_path_factory.mktemp("smk"), params)
    run(dvc_ws, sys.executable, "-m", "dvc", "repro")
    run(smk_ws, sys.executable, "-m", "snakemake", "--cores", "2")
    return params, dvc_ws, smk_ws


def test_both_engines_produce_the_same_artifacts(runs):
    params, dvc_ws, smk_ws = runs
    a, b = outputs(dvc_ws, params), outputs(smk_ws, params)
    assert a == b
    card = json.loads((dvc_ws / "data/processed/synth-faces/card.json").read_text())
    assert card["counts"] == {"train": 24, "val": 8, "test": 8}


def test_dvc_is_up_to_date_and_reruns_only_what_code_changes_affect(runs):
    _, dvc_ws, _ = runs
    assert "up to date" in run(dvc_ws, sys.executable, "-m", "dvc", "status")
    src = dvc_ws / "src/attr2img/figures/overview.py"
    src.write_text(src.read_text() + "\n# touched\n")
    status = run(dvc_ws, sys.executable, "-m", "dvc", "status", "--json")
    changed = set(json.loads(status[status.index("{"):]))
    assert changed == {"overview@synth-faces", "overview@synth-birds"}


def test_training_curves_are_dvc_plots(runs):
    params, dvc_ws, _ = runs
    out = run(dvc_ws, sys.executable, "-m", "dvc", "plots", "show", "--json")
    data = json.loads(out[out.index("{"):])["data"]
    shown = {k.split("::")[-1]: v for k, v in data.items()}
    files = {f"results/plots/train/{d}/{m}.tsv" for d in params["datasets"] for m in MODELS}
    assert files == set(shown) and len(data) == len(files), "each curve is drawn once"
    for f in files:
        points = shown[f][0]["content"]["data"]["values"]
        assert {p["field"] for p in points} == {"train_loss", "val_loss"}      # the two curves
        assert {p["epoch"] for p in points} == {"1", "2"}                      # one point per epoch


def test_snakemake_has_nothing_left_to_do(runs):
    _, _, smk_ws = runs
    out = run(smk_ws, sys.executable, "-m", "snakemake", "--cores", "1", "-n")
    assert "Nothing to be done" in out


def test_tables_are_complete_and_numeric(runs):
    import csv

    params, dvc_ws, smk_ws = runs
    rows = list(csv.DictReader((dvc_ws / "results/tables/table1.csv").open()))
    occluders = params["inference"]["occluders"]
    for d in params["datasets"]:
        for task in ["recon_full", "recon_fg"] + [f"complete_{o}" for o in occluders[d]]:
            for m in ("vae", "cvae", "discvae"):
                hits = [r for r in rows if (r["dataset"], r["task"], r["model"]) == (d, task, m)]
                assert len(hits) == 1, (d, task, m)
                assert float(hits[0]["mean"]) >= 0 and float(hits[0]["sem"]) >= 0
    rows2 = list(csv.DictReader((dvc_ws / "results/tables/table2.csv").open()))
    for d in params["datasets"]:
        methods = {r["method"] for r in rows2 if r["dataset"] == d}
        assert methods == {"NN", "NNblur", "cvae", "discvae", "regressor_on_test_images"}
        for r in rows2:
            assert -1 <= float(r["cosine_mean"]) <= 1 and float(r["mse_mean"]) >= 0
    assert (dvc_ws / "results/tables/table1.md").read_text() == (smk_ws / "results/tables/table1.md").read_text()


def test_metrics_diff_shows_a_changed_cell(runs):
    _, dvc_ws, _ = runs
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    run(dvc_ws, *git, "add", "-A")
    run(dvc_ws, *git, "commit", "-qm", "baseline")
    path = dvc_ws / "results/metrics/table1/synth-faces/cvae.json"
    metrics = json.loads(path.read_text())
    metrics["complete_eyes"]["mean"] += 1.5
    path.write_text(json.dumps(metrics))
    out = run(dvc_ws, sys.executable, "-m", "dvc", "metrics", "diff", "--json")
    diff = json.loads(out[out.index("{"):])
    changed = diff["results/metrics/table1/synth-faces/cvae.json"]
    assert set(changed) == {"complete_eyes.mean"}
    assert abs(changed["complete_eyes.mean"]["diff"] - 1.5) < 1e-6
