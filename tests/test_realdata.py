"""LFW and CUB through the pipeline's own stages, offline.

The tiny archives of tests/test_lfw.py and tests/test_cub.py (the real layouts) are served
from 127.0.0.1 to the per-dataset fetch (``fetch_dataset``, what ``attr2img fetch --dataset``
runs); then Snakemake runs every later stage on ``datasets: [lfw, cub]`` unchanged.
"""

import gzip
import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from attr2img.cli import main
from attr2img.data import prepare
from attr2img.data.real import fetch
from attr2img.data.real.fetch import Policy, RemoteFile, Source
from attr2img.data.loader import MODEL_SIZE
from attr2img.errors import DatasetError, FetchError
from conftest import GENERATORS, MODELS, ROOT, make_workspace, tiny
from fakehost import Host

facenet = pytest.importorskip("facenet_pytorch", reason="pip install --no-deps facenet-pytorch==2.6.0")
import test_cub  # noqa: E402  (the builders of the tiny archives)
import test_lfw  # noqa: E402

FAST = Policy(attempts=2, backoff=0.0, timeout=5.0, progress=False, sleep=lambda s: None)
REAL = ["lfw", "cub"]


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture(scope="module")
def server():
    """Serves LFW images, attributes and View 1, and CUB with its segmentations; not the Part Labels."""
    host = Host()
    threading.Thread(target=host.serve_forever, daemon=True).start()
    archive, attributes, train, test = test_lfw._files()
    cub_images, cub_segs = test_cub._archives()
    files = {"/lfw-funneled.tgz": archive, "/lfw_attributes.txt": attributes, "/peopleDevTrain.txt": train,
             "/peopleDevTest.txt": test, "/CUB_200_2011.tgz": cub_images, "/segmentations.tgz": cub_segs}
    host.files.update(files)
    # the real source table with this host's URLs and these files' checksums (the Part Labels: 404)
    host.sources = {name: Source(name, tuple(
        RemoteFile(rf.name, (host.url(f"/{rf.name}"),), sha256=_sha(files[f"/{rf.name}"]) if f"/{rf.name}" in files
                   else None, extract=rf.extract) for rf in src.files)) for name, src in fetch.SOURCES.items()}
    yield host
    host.shutdown()
    host.server_close()


def test_optional_sources_may_be_missing_required_ones_may_not(server, tmp_path, capsys):
    rec = fetch.fetch_dataset("lfw", tmp_path / "lfw", FAST, server.sources)
    assert set(rec["sources"]) == {"lfw-funneled", "lfw-attributes", "lfw-view1"}
    assert set(rec["missing"]) == {"lfw-part-labels"} and "random walker" in rec["missing"]["lfw-part-labels"]["fallback"]
    assert "warning: lfw-part-labels is not available" in capsys.readouterr().err
    assert json.loads((tmp_path / "lfw/fetched.json").read_text()) == rec

    sources = dict(server.sources, cub=Source("cub", (RemoteFile("CUB_200_2011.tgz", (server.url("/gone.tgz"),),
                                                                 sha256="0" * 64, extract=True),)))
    with pytest.raises(FetchError) as err:
        fetch.fetch_dataset("cub", tmp_path / "cub", FAST, sources)
    assert f"CUB_200_2011.tgz: put at {tmp_path / 'cub/cub/CUB_200_2011.tgz'} (sha256 {'0' * 64})" in str(err.value)
    assert not (tmp_path / "cub/fetched.json").exists(), "no record of a failed fetch"


def test_synthetic_datasets_fetch_nothing_and_prepare_checks_the_record(tmp_path, tiny_params):
    assert main(["fetch", "--dataset", "synth-faces", "--out", str(tmp_path / "synth-faces")]) == 0
    rec = json.loads((tmp_path / "synth-faces/fetched.json").read_text())
    assert rec["sources"] == {} and "nothing to fetch" in rec["note"]
    with pytest.raises(DatasetError, match="records the files of 'synth-faces', not 'synth-birds'"):
        prepare.run("synth-birds", tiny_params, tmp_path / "out", tmp_path / "synth-faces/fetched.json")
    with pytest.raises(DatasetError, match="run the fetch stage first"):
        prepare.run("lfw", tiny_params, tmp_path / "out", tmp_path / "lfw/fetched.json")
    with pytest.raises(DatasetError, match="give the fetch record"):
        prepare.run("cub", tiny_params, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_fetch_names_every_missing_file_of_a_dataset(monkeypatch, tmp_path, capsys):
    dead = "http://127.0.0.1:9/"                    # the discard port: nothing answers
    monkeypatch.setattr(fetch, "SOURCES", {n: Source(n, tuple(RemoteFile(rf.name, (dead + rf.name,), rf.sha256, rf.md5,
                                                                        extract=rf.extract) for rf in s.files))
                                           for n, s in fetch.SOURCES.items()})
    assert main(["fetch", "--dataset", "lfw", "--out", str(tmp_path), "--attempts", "1", "--timeout", "2"]) == 3
    err = capsys.readouterr().err
    assert f"lfw-funneled.tgz: put at {tmp_path / 'lfw-funneled/lfw-funneled.tgz'} (sha256 b47c8422" in err
    assert f"lfw_attributes.txt: put at {tmp_path / 'lfw-attributes/lfw_attributes.txt'} (md5 a68c039a" in err
    assert "warning: lfw-view1 is not available" in err       # optional: a warning, then the fallback


def _params(datasets):
    p = tiny(yaml.safe_load((ROOT / "params.yaml").read_text()))
    p["datasets"] = datasets
    p["train"].update(device="cpu", batch_size=2,
                      epochs={d: {m: 1 for m in MODELS} for d in [*datasets, "synth-faces", "synth-birds"]})
    p["inference"].update(n_test=2, batch_size=2, iterations=2, n_examples=2)
    p["table2"].update(n_test=2, n_samples=2, batch_size=2)
    p["regressor"]["batch_size"] = 2           # the judge's own batch: the real splits here hold a few images
    return p


@pytest.mark.slow
def test_snakemake_runs_every_later_stage_on_lfw_and_cub(server, tmp_path):
    """Through the README's own command, `--config 'datasets=[lfw, cub]'`, over a params.yaml
    that lists the synthetic sets: every stage, the tables and the report included, sees lfw and cub."""
    params = _params(REAL)
    params["datasets"] = ["synth-faces", "synth-birds"]
    ws = make_workspace(tmp_path / "ws", params)
    # a user's own copy of the segmentations: the same files, packed again, so not the published bytes
    repacked = gzip.compress(gzip.decompress(server.files["/segmentations.tgz"]), compresslevel=1, mtime=0)
    (ws / "resources/cub/cub-segmentations").mkdir(parents=True)
    (ws / "resources/cub/cub-segmentations/segmentations.tgz").write_bytes(repacked)
    for d in REAL:                                      # what the fetch stage would have done
        fetch.fetch_dataset(d, ws / "resources" / d, FAST, server.sources, accept={"segmentations.tgz": _sha(repacked)})
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")   # attr2img
    res = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "--config", "datasets=[lfw, cub]"],
                         cwd=ws, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "rule fetch" not in res.stdout + res.stderr, "the fetch records were up to date"

    lfw_card = json.loads((ws / "data/processed/lfw/card.json").read_text())
    assert lfw_card["preparation"]["split"].startswith("View 1")
    assert lfw_card["preparation"]["masks"]["method"].startswith("random walker"), "Part Labels were not fetched"
    assert lfw_card["image_size"] == 64 and len(lfw_card["attribute_names"]) == 73
    cub_card = json.loads((ws / "data/processed/cub/card.json").read_text())
    assert cub_card["fetched"]["non_reference_copies"] == ["segmentations.tgz"]
    assert "Non-reference copies were used" in (ws / "results/report.md").read_text()
    assert cub_card["image_size"] == 80 and cub_card["attribute_kind"] == "binary"
    for d in REAL:
        for m in MODELS:
            card = json.loads((ws / "models" / d / m / "card.json").read_text())
            assert card["config"]["image_size"] == MODEL_SIZE
        for m in GENERATORS:
            assert (ws / "results/metrics/table1" / d / f"{m}.json").exists()
        for fig in ("overview", "occluders", "figure3", "figure4", "figure5", "figure6"):
            assert (ws / "results/figures" / f"{fig}-{d}.png").stat().st_size > 0
    for name in ("tables/table1.md", "tables/table2.md", "report.md"):
        text = (ws / "results" / name).read_text()
        assert "## lfw" in text and "## cub" in text and "synth-" not in text.split("## Parameters")[0], name
