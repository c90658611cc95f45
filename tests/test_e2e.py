"""End to end: `dvc repro` and `snakemake --cores 2` run the tiny profile in fresh git repos."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import make_workspace

pytestmark = pytest.mark.slow
ENV = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def run(ws, *cmd):
    res = subprocess.run(cmd, cwd=ws, env=ENV, capture_output=True, text=True)
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout}\n{res.stderr}"
    return res.stdout + res.stderr


def outputs(ws, datasets):
    out = {}
    for d in datasets:
        out[d] = (json.loads((ws / "data/processed" / d / "card.json").read_text())["checksum"],
                  (ws / "results/figures" / f"overview-{d}.png").read_bytes())
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from conftest import ROOT, tiny
    import yaml

    params = tiny(yaml.safe_load((ROOT / "params.yaml").read_text()))
    dvc_ws = make_workspace(tmp_path_factory.mktemp("dvc"), params)
    smk_ws = make_workspace(tmp_path_factory.mktemp("smk"), params)
    run(dvc_ws, sys.executable, "-m", "dvc", "repro")
    run(smk_ws, sys.executable, "-m", "snakemake", "--cores", "2")
    return params, dvc_ws, smk_ws


def test_both_engines_produce_the_same_artifacts(runs):
    params, dvc_ws, smk_ws = runs
    a, b = outputs(dvc_ws, params["datasets"]), outputs(smk_ws, params["datasets"])
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


def test_snakemake_has_nothing_left_to_do(runs):
    _, _, smk_ws = runs
    out = run(smk_ws, sys.executable, "-m", "snakemake", "--cores", "1", "-n")
    assert "Nothing to be done" in out
