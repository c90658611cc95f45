"""Figures 3 to 6 and the report: layouts, reproducible bytes, clear errors for missing inputs."""

import copy
import json

import pytest

from attr2img.cli import main
from attr2img.figures import figure3, figure4, figure5, figure6
from attr2img import edits
from attr2img.atomic import write_json
from attr2img.inference import claims, evaluate_attributes, evaluate_edits, evaluate_recon, tables
from attr2img.inference.evaluate_edits import EditsConfig
from attr2img.inference.config import EvaluationConfig, Table2Config
from attr2img.errors import ArtifactError
from attr2img.report import noise_note, to_html, write_report
from conftest import GENERATORS


@pytest.fixture(scope="module")
def evaluated(tiny_models, tiny_params, tmp_path_factory):
    """Table 1 and 2 metrics and examples for every tiny dataset."""
    out = tmp_path_factory.mktemp("results")
    p = copy.deepcopy(tiny_params)
    p["train"]["device"] = "cpu"
    for d, (models, data) in tiny_models.items():
        for g in GENERATORS:
            evaluate_recon.evaluate(models / g, data, d, EvaluationConfig(**p["inference"]),
                                    out / "metrics/table1" / d / f"{g}.json", out / "inference" / d / f"{g}.npz",
                                    device="cpu")
        evaluate_attributes.evaluate({"regressor": models / "regressor", "cvae": models / "cvae",
                                      "discvae": models / "discvae"},
                                     data, Table2Config(**p["table2"]), out / "metrics/table2" / f"{d}.json",
                                     out / "inference" / d / "table2.npz", device="cpu")
        evaluate_edits.evaluate(data, models / "regressor", models / "discvae", EditsConfig(**p["edits"]),
                                out / "inference" / d / "edits.npz", out / "metrics/edits" / f"{d}.json", device="cpu")
    tables.write_tables(out / "metrics/table1", out / "metrics/table2", out / "tables", p["datasets"])
    write_json(out / "metrics/claims.json", claims.ledger(out / "inference", p["datasets"]))
    return out, p


def _png_size(path):
    import struct
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_figure3_layout_and_reproducible_bytes(tiny_models, tmp_path):
    models, data = tiny_models["synth-faces"]
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    shape = figure3.draw(data, models / "cvae", models / "discvae", a, seed=0, n_rows=2, n_samples=3)
    assert shape == (2, 2 + 3 * 3 + 1)
    figure3.draw(data, models / "cvae", models / "discvae", b, seed=0, n_rows=2, n_samples=3)
    assert a.read_bytes() == b.read_bytes()
    w, h = _png_size(a)
    assert w > 3 * h, "a wide grid: 12 columns, 2 rows"


@pytest.mark.parametrize("dataset, rows", [("synth-faces", 5), ("synth-birds", 3)])
def test_figure4_has_a_row_per_attribute_group(tiny_models, tmp_path, dataset, rows):
    models, data = tiny_models[dataset]
    assert figure4.draw(data, models / "discvae", tmp_path / "f.png", steps=7) == (rows, 7)
    w, h = _png_size(tmp_path / "f.png")
    assert w >= 7 * 150 and h >= rows * 150, "each 64x64 sample is shown at 150 px or more"


def test_progression_moves_only_the_named_attributes():
    import torch

    base = torch.zeros(4)
    ys = edits.progression_vectors(base, ["a", "b", "c", "d"], {"b": ("min", "max"), "d": (1.0, 0.0)},
                                        torch.tensor([-1.0, -2.0, -3.0, -4.0]), torch.tensor([1.0, 2.0, 3.0, 4.0]), 5)
    assert ys[:, [0, 2]].eq(0).all()
    assert torch.allclose(ys[:, 1], torch.linspace(-2, 2, 5)) and torch.allclose(ys[:, 3], torch.linspace(1, 0, 5))


def test_figure5_shows_three_blocks_of_image_background_gate(tiny_models, tmp_path):
    models, data = tiny_models["synth-birds"]
    assert figure5.draw(data, models / "discvae", tmp_path / "f.png", n=6) == (9, 6)


def test_figure6_layout(evaluated, tiny_models, tmp_path):
    out, p = evaluated
    _, data = tiny_models["synth-faces"]
    tasks = ["recon"] + p["inference"]["occluders"]["synth-faces"]
    shape = figure6.draw(data, out / "inference" / "synth-faces", tmp_path / "f.png", tasks)
    rows, cols, per_task, n = shape                  # a grid of panels, one per task
    assert (per_task, n) == (5, p["inference"]["n_examples"]) and cols > 1 and rows * cols >= len(tasks) > \
        (rows - 1) * cols
    w, h = _png_size(tmp_path / "f.png")
    assert 0.5 < w / h < 2, "a page holds it: neither a single tall column nor a strip"


def test_missing_model_names_the_stage(tiny_models, tmp_path, tiny_params_file, capsys):
    _, data = tiny_models["synth-faces"]
    code = main(["figure4", "--params", str(tiny_params_file), "--dataset", "synth-faces", "--data", str(data),
                 "--discvae", str(tmp_path / "no-model"), "--out", str(tmp_path / "f.png")])
    assert code == 3 and "attr2img train" in capsys.readouterr().err
    code = main(["figure6", "--params", str(tiny_params_file), "--dataset", "synth-faces", "--data", str(data),
                 "--examples", str(tmp_path / "none"), "--out", str(tmp_path / "f.png")])
    assert code == 3 and "evaluate-recon" in capsys.readouterr().err
    assert not (tmp_path / "f.png").exists()


def test_report_assembles_tables_figures_and_reading(evaluated, tiny_models, tmp_path, tiny_params_file, capsys):
    out, p = evaluated
    data = tiny_models["synth-faces"][1].parent
    figs = tmp_path / "figures"
    figs.mkdir()
    for d in p["datasets"]:
        for stem in ("overview", "occluders", "figure3", "figure4", "figure5", "figure6"):
            (figs / f"{stem}-{d}.png").write_bytes(b"\x89PNG")
    plots = tmp_path / "plots"                          # the training curves, as the train stage lays them out
    for d, (models, _) in tiny_models.items():
        (plots / d).mkdir(parents=True)
        for curve in models.glob("*.tsv"):
            (plots / d / curve.name).write_bytes(curve.read_bytes())
    md_path, html_path = tmp_path / "report.md", tmp_path / "report.html"
    floor = tmp_path / "noise_floor.json"          # a constructed measurement: the report must quote it
    floor.write_text(json.dumps({
        "measured_on": {"machine": "Test VM, 2 cores", "seeds": 4, "datasets": p["datasets"], "experiments": {}},
        "table1": {"cells": 30, "median_sd": 1.13, "largest_sd": 7.7, "largest_cell": "table1/x/y recon_fg",
                   "threshold": 2.5},
        "table2_generator_cosine": {"cells": 4, "median_sd": 0.021, "largest_sd": 0.06, "largest_cell": "t",
                                    "threshold": 0.045},
        "verdicts": {"claims": 38, "same_in_every_run": 35,
                     "flipped": ["synth-faces/figure4/gender_female_to_male", "synth-birds/table1/recon_full/cvae_lt_vae",
                                 "synth-birds/table1/recon_fg/cvae_lt_vae"]}}))
    oracle = tmp_path / "oracle_generator.json"   # a constructed perfect generator for one dataset, at this NN
    t2 = json.loads((out / "metrics" / "table2" / "synth-birds.json").read_text())
    interval = {"mean_diff": 0.05, "ci_low": 0.04, "ci_high": 0.06, "n": 4}
    oracle.write_text(json.dumps({"measured_on": {"machine": "Test VM"}, "datasets": {"synth-birds": {
        "n_samples": 2, "rows": {"NN": {"cosine": round(t2["NN"]["cosine"]["mean"], 4)},
                                 "oracle_best": {"cosine": 0.9876, "minus_NN": interval, "above_NN": "holds"},
                                 "oracle_one": {"cosine": 0.9, "minus_NN": interval, "above_NN": "holds"}}}}}))
    write_report(tiny_params_file, p, out / "tables", out / "metrics", figs, data, plots, floor, md_path, html_path,
                 oracle)
    md = md_path.read_text()
    # the perfect generator is quoted in the Table 2 evidence, which a failing generator > NN claim writes
    ledger = json.loads((out / "metrics" / "claims.json").read_text())
    loses = any(c["verdict"] == "fails" for k, c in ledger["synth-birds"]["table2"].items() if k.endswith("_gt_NN"))
    assert ("scores 0.988 as its best of 2 samples" in md) == loses
    assert ("over 4 seeds on the Test VM, a median standard deviation of 1.1 in a Table 1 cell, up to 7.7 in "
            "table1/x/y recon_fg, and 0.021 in a generator's Table 2 cosine") in md
    assert "beyond about twice that: 2.5 in a Table 1 cell, 0.045 in a generator's Table 2 cosine" in md
    assert ("35 of the 38 verdicts stayed the same, and 3 flipped (2 Table 1 claims; 1 Figure 4 row: "
            "synth-faces gender female to male)") in md
    # a run on other datasets is told the measurement is not of its data, and names none of its cells
    other = noise_note(json.loads(floor.read_text()), ["lfw"])
    assert "on the datasets of the default run, not on this run's" in other and "synth-" not in other
    assert "2.5 in a Table 1 cell" in other
    assert "## Why claims fail: the evidence" in md
    assert "**synth-faces**: a synthetic stand-in for LFW" in md and "24 train / 8 validation / 8 test images" in md
    assert "synthetic stand-ins (synth-faces, synth-birds)" in md
    assert "## Claims ledger" in md and "| synth-birds | disCVAE < CVAE in recon_full error |" in md
    assert "## Reading against the paper" in md and "Table 1" in md and "Table 2" in md
    for d in p["datasets"]:
        assert f"**{d}, Table 1.**" in md and f"**{d}, Table 2.**" in md
        assert f"figures/figure6-{d}.png" in md
    assert "```yaml" in md and "git revision" in md
    html = html_path.read_text()
    assert html.count("<table>") == 2 * len(p["datasets"]) + 1 and "<img" in html     # Tables 1, 2 and the ledger
    # a missing figure names its stage
    (figs / "figure5-synth-birds.png").unlink()
    assert main(["report", "--params", str(tiny_params_file), "--tables", str(out / "tables"), "--metrics",
                 str(out / "metrics"), "--figures", str(figs), "--data", str(data), "--plots", str(plots),
                 "--noise-floor", str(floor), "--out", str(md_path), "--html", str(html_path)]) == 3
    assert "figure5 stage" in capsys.readouterr().err
    # so does a missing or incomplete noise floor: the benchmark that writes it
    (figs / "figure5-synth-birds.png").write_bytes(b"\x89PNG")
    for text in (None, json.dumps({"measured_on": {}})):          # and a missing or incomplete oracle file
        oracle.unlink(missing_ok=True)
        if text is not None:
            oracle.write_text(text)
        with pytest.raises(ArtifactError, match="oracle_generator.py"):
            write_report(tiny_params_file, p, out / "tables", out / "metrics", figs, data, plots, floor, md_path,
                         html_path, oracle)
    for text in (None, json.dumps({"table1": {}})):
        floor.unlink(missing_ok=True)
        if text is not None:
            floor.write_text(text)
        with pytest.raises(ArtifactError, match="noise_floor.py"):
            write_report(tiny_params_file, p, out / "tables", out / "metrics", figs, data, plots, floor, md_path,
                         html_path)


def test_missing_metrics_name_the_stage_that_writes_them(evaluated, tmp_path, tiny_params_file, capsys):
    out, _ = evaluated
    empty = tmp_path / "table1"
    empty.mkdir()
    assert main(["tables", "--params", str(tiny_params_file), "--table1", str(empty), "--table2",
                 str(out / "metrics/table2"), "--out", str(tmp_path / "t")]) == 3
    err = capsys.readouterr().err
    assert "missing" in err and "attr2img evaluate-recon" in err and "Traceback" not in err
    assert not (tmp_path / "t").exists()


def test_the_report_says_what_the_real_data_cards_say(default_params):
    import copy

    from attr2img.report import describe_dataset, profile_note

    card = {"name": "lfw", "counts": {"train": 9000, "val": 1000, "test": 3000}, "attribute_names": ["a"] * 73,
            "attribute_kind": "continuous",
            "preparation": {"split": "deterministic identity split: sha256(name) < 0.7024 (View 1 files not fetched)",
                            "validation": "10 % of the train identities",
                            "masks": {"method": "random walker seeded from the face template (download-free)"},
                            "counts": {"detector misses (median transform used)": 12, "dropped: no attribute row": 0}},
            "fetched": {"non_reference_copies": ["lfw-funneled.tgz"],
                        "fallbacks": {"lfw-view1": "a deterministic identity split"}}}
    text = describe_dataset(card)
    for words in ("the real dataset", "deterministic identity split", "random walker", "detector misses "
                  "(median transform used): 12", "lfw-view1 was not fetched", "Non-reference copies were used",
                  "lfw-funneled.tgz"):
        assert words in text, words
    assert "dropped: no attribute row" not in text, "zero counts are left out"
    paper = copy.deepcopy(default_params)
    paper["model"]["width"], paper["inference"]["iterations"] = 1.0, 1000
    assert "the paper's network width" in profile_note(paper, [card])
    assert "synthetic" not in profile_note(default_params, [card]) and \
        f"width {default_params['model']['width']} of the paper's" in profile_note(default_params, [card])


def test_report_reading_follows_the_numbers(evaluated, tmp_path):
    from attr2img.report import read_table1

    out, _ = evaluated
    m = tmp_path / "table1" / "synth-faces"
    m.mkdir(parents=True)
    for g, v in (("vae", 3.0), ("cvae", 2.0), ("discvae", 1.0)):
        src = json.loads((out / "metrics/table1/synth-faces" / f"{g}.json").read_text())
        for k in src:
            if k.startswith(("recon_", "complete_")):
                src[k] = {"mean": v, "sem": 0.01}
        (m / f"{g}.json").write_text(json.dumps(src))
    text = " ".join(read_table1(tmp_path, "synth-faces"))
    assert "disCVAE's on 6 of 6 rows" in text and "agrees" in text


def test_html_converter_escapes_and_builds_tables():
    html = to_html("# T <x>\n\n| a | b |\n|---|---|\n| 1 | **2** |\n")
    assert "<h1>T &lt;x&gt;</h1>" in html and "<td><strong>2</strong></td>" in html
