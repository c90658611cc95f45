"""End to end: `dvc repro` and `snakemake --cores 2` run the tiny profile in fresh git repos."""

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GENERATORS, MODELS, make_workspace

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


def _dvc_changed(ws) -> set:
    status = run(ws, sys.executable, "-m", "dvc", "status", "--json")
    return set(json.loads(status[status.index("{"):]))


def _snakemake_jobs(ws) -> dict:
    """rule -> job count of what `snakemake -n` would run (its job-stats table; the target rule `all` left out)."""
    out = run(ws, sys.executable, "-m", "snakemake", "--cores", "1", "-n")
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:", 1)[1].split("total", 1)[0]
    return {w[0]: int(w[1]) for w in (line.split() for line in table.splitlines())
            if len(w) == 2 and w[1].isdigit() and w[0] != "all"}


@contextlib.contextmanager
def touched(*files):
    """Append a comment to source files (a real edit: new content and mtime), then restore them."""
    saved = {f: (f.read_bytes(), f.stat()) for f in files}
    try:
        for f in files:
            f.write_text(f.read_text() + "\n# touched\n")
        yield
    finally:
        for f, (data, st) in saved.items():
            f.write_bytes(data)
            os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_editing_a_stage_module_reruns_that_stage_alone(runs):
    params, dvc_ws, smk_ws = runs
    assert "up to date" in run(dvc_ws, sys.executable, "-m", "dvc", "status")
    assert _snakemake_jobs(smk_ws) == {}
    n = len(params["datasets"])
    rel = "src/attr2img/figures/figure4.py"
    with touched(dvc_ws / rel), touched(smk_ws / rel):
        assert _dvc_changed(dvc_ws) == {f"figure4@{d}" for d in params["datasets"]}
        # Snakemake also lists the report, whose input figure4 would rewrite
        assert _snakemake_jobs(smk_ws) == {"figure4": n, "report": 1}
    # the front door (dispatcher, parameter loading, schema) is no stage's dependency
    front = ("src/attr2img/cli.py", "src/attr2img/params.py", "src/attr2img/schemas/params.schema.yaml")
    with touched(*(dvc_ws / f for f in front)), touched(*(smk_ws / f for f in front)):
        assert _dvc_changed(dvc_ws) == set()
        assert _snakemake_jobs(smk_ws) == {}
    assert "up to date" in run(dvc_ws, sys.executable, "-m", "dvc", "status")


def test_a_rerun_in_another_clone_gives_the_same_dvc_lock(runs, tmp_path_factory):
    """Deterministic artifacts: the same commit, rerun elsewhere on this machine, records the same hashes."""
    params, dvc_ws, _ = runs
    other = make_workspace(tmp_path_factory.mktemp("dvc-again"), params)
    run(other, sys.executable, "-m", "dvc", "repro")
    assert (other / "dvc.lock").read_bytes() == (dvc_ws / "dvc.lock").read_bytes()
    # the run records, which differ between identical runs, stay out of the model folders
    record = json.loads((dvc_ws / "results/runs/synth-faces/cvae.json").read_text())
    assert {"seconds", "device", "git_revision", "host"} <= set(record)
    card = json.loads((dvc_ws / "models/synth-faces/cvae/card.json").read_text())
    assert not {"seconds", "device", "git_revision", "host"} & set(card)


def _commit(ws, message):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    run(ws, *git, "add", "-A")
    run(ws, *git, "commit", "-q", "--allow-empty", "-m", message)


def test_a_colleague_pulls_the_results_and_has_nothing_to_rerun(runs, tmp_path_factory):
    _, dvc_ws, _ = runs
    remote = tmp_path_factory.mktemp("dvc-remote")
    run(dvc_ws, sys.executable, "-m", "dvc", "remote", "add", "-d", "-f", "shared", str(remote))
    _commit(dvc_ws, "results")
    run(dvc_ws, sys.executable, "-m", "dvc", "push")
    colleague = tmp_path_factory.mktemp("colleague") / "repo"
    run(dvc_ws.parent, "git", "clone", "-q", str(dvc_ws), str(colleague))
    assert not (colleague / "models/synth-faces/discvae").exists()      # only DVC's .gitignore files came
    run(colleague, sys.executable, "-m", "dvc", "pull")
    assert (colleague / "models/synth-faces/discvae/model.safetensors").read_bytes() == \
        (dvc_ws / "models/synth-faces/discvae/model.safetensors").read_bytes()
    assert "up to date" in run(colleague, sys.executable, "-m", "dvc", "status")
    out = run(colleague, sys.executable, "-m", "dvc", "repro")
    assert "Running stage" not in out and "up to date" in out


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
            for m in GENERATORS:
                hits = [r for r in rows if (r["dataset"], r["task"], r["model"]) == (d, task, m)]
                assert len(hits) == 1, (d, task, m)
                assert float(hits[0]["mean"]) >= 0 and float(hits[0]["sem"]) >= 0
    rows2 = list(csv.DictReader((dvc_ws / "results/tables/table2.csv").open()))
    for d in params["datasets"]:
        methods = {r["method"] for r in rows2 if r["dataset"] == d}
        assert methods == {"NN", "NNblur", "cvae", "discvae", "regressor_on_test_images", "noise_ceiling"}
        for r in rows2:
            assert -1 <= float(r["cosine_mean"]) <= 1 and float(r["mse_mean"]) >= 0
    assert (dvc_ws / "results/tables/table1.md").read_text() == (smk_ws / "results/tables/table1.md").read_text()


def test_metrics_diff_shows_a_changed_cell(runs):
    _, dvc_ws, _ = runs
    _commit(dvc_ws, "baseline")
    path = dvc_ws / "results/metrics/table1/synth-faces/cvae.json"
    metrics = json.loads(path.read_text())
    metrics["complete_eyes"]["mean"] += 1.5
    path.write_text(json.dumps(metrics))
    out = run(dvc_ws, sys.executable, "-m", "dvc", "metrics", "diff", "--json")
    diff = json.loads(out[out.index("{"):])
    changed = diff["results/metrics/table1/synth-faces/cvae.json"]
    assert set(changed) == {"complete_eyes.mean"}
    assert abs(changed["complete_eyes.mean"]["diff"] - 1.5) < 1e-6
