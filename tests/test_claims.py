"""The claims ledger: verdicts from paired intervals, on constructed inputs with known answers."""

import numpy as np
import pytest

from attr2img.atomic import write_npz
from attr2img.inference import claims


def test_a_clear_win_a_clear_loss_and_an_overlap():
    rng = np.random.default_rng(0)
    base = rng.normal(10, 3, 200)                     # per-image errors, very different between images
    win = claims.judge(base - 0.5 + rng.normal(0, 0.2, 200), base, "less", "A < B")
    loss = claims.judge(base + 0.5 + rng.normal(0, 0.2, 200), base, "less", "A < B")
    tie = claims.judge(base + rng.normal(0, 0.2, 200), base, "less", "A < B")
    assert (win["verdict"], loss["verdict"], tie["verdict"]) == ("holds", "fails", "inconclusive")
    assert win["ci_high"] < 0 < loss["ci_low"] and tie["ci_low"] < 0 < tie["ci_high"]
    assert (win["verdict_code"], loss["verdict_code"], tie["verdict_code"]) == (1, -1, 0)
    # "greater" claims mirror "less" ones
    assert claims.judge(base + 0.5, base, "greater", "A > B")["verdict"] == "holds"


def test_pairing_sees_what_unpaired_errors_hide():
    """A small, consistent improvement under a large image-to-image spread: paired, it is clear."""
    rng = np.random.default_rng(1)
    base = rng.normal(10, 5, 64)
    better = base - 0.3
    unpaired_se = np.sqrt(better.var(ddof=1) / 64 + base.var(ddof=1) / 64)
    assert abs(better.mean() - base.mean()) < 2 * unpaired_se          # unpaired standard errors overlap
    assert claims.judge(better, base, "less", "A < B")["verdict"] == "holds"


def test_the_interval_is_reproducible_and_covers_the_mean():
    d = np.random.default_rng(2).normal(1.0, 1.0, 100)
    a, b = claims.paired_interval(d, np.zeros(100)), claims.paired_interval(d, np.zeros(100))
    assert a == b and a["ci_low"] < d.mean() < a["ci_high"] and a["n"] == 100
    with pytest.raises(ValueError):
        claims.paired_interval(np.ones(1), np.ones(1))


def test_the_ledger_from_per_item_files(tmp_path):
    rng = np.random.default_rng(3)
    ids = np.array([f"img{i}" for i in range(50)])
    err = rng.normal(10, 2, 50)
    folder = tmp_path / "synth-faces"
    for model, shift in (("vae", 1.0), ("cvae", 1.0), ("discvae", -1.0)):       # CVAE ties the VAE
        write_npz(folder / f"{model}.npz", {"per_image/ids": ids, "per_image/recon_full": err + shift})
    cos = rng.uniform(0.5, 0.9, 40)
    write_npz(folder / "table2.npz", {"ids": ids[:40], "NN/cosine": cos, "NNblur/cosine": cos - 0.1,
                                      "cvae/cosine": cos - 0.05, "discvae/cosine": cos + rng.normal(0, 0.01, 40)})
    _edits_file(folder, {"gender": (np.full(8, 2.0) + rng.normal(0, 0.1, 8), np.full(8, 0.1), 1.0)},
                {"vary_zb": (np.full(8, 0.01), np.full(8, 0.05) + rng.normal(0, 0.001, 8)),
                 "vary_zf": (np.full(8, 0.05) + rng.normal(0, 0.001, 8), np.full(8, 0.01))})
    ledger = claims.ledger(tmp_path, ["synth-faces"])
    t1, t2 = ledger["synth-faces"]["table1"]["recon_full"], ledger["synth-faces"]["table2"]
    assert t1["discvae_lt_cvae"]["verdict"] == "holds" and t1["cvae_lt_vae"]["verdict"] == "inconclusive"
    assert t2["NN_gt_NNblur"]["verdict"] == "holds" and t2["cvae_gt_NN"]["verdict"] == "fails"
    assert t2["discvae_gt_NN"]["verdict"] == "inconclusive"
    assert ledger["synth-faces"]["figure4"]["gender"]["verdict"] == "holds"
    assert [v["verdict"] for v in ledger["synth-faces"]["figure5"].values()] == ["holds", "holds"]
    assert ledger["summary"] == {"holds": 5, "inconclusive": 2, "fails": 1}


def test_per_item_results_come_from_the_evaluation_stages(tiny_models, tmp_path):
    from attr2img.inference import evaluate_attributes, evaluate_edits, evaluate_recon
    from attr2img.inference.evaluate_edits import EditsConfig
    from attr2img.inference.config import EvaluationConfig, Table2Config
    from conftest import tiny

    import yaml
    from conftest import ROOT

    p = tiny(yaml.safe_load((ROOT / "params.yaml").read_text()))
    models, data = tiny_models["synth-faces"]
    out = tmp_path / "synth-faces"
    for g in ("vae", "cvae", "discvae"):
        m = evaluate_recon.evaluate(models / g, data, "synth-faces", EvaluationConfig(**p["inference"]),
                                    tmp_path / f"{g}.json", out / f"{g}.npz", device="cpu")
        with np.load(out / f"{g}.npz") as z:
            assert len(z["per_image/ids"]) == m["n_images"]
            assert z["per_image/recon_full"].mean() == pytest.approx(m["recon_full"]["mean"], abs=1e-3)
    r = evaluate_attributes.evaluate({"regressor": models / "regressor", "cvae": models / "cvae",
                                      "discvae": models / "discvae"}, data, Table2Config(**p["table2"]),
                                     tmp_path / "t2.json", out / "table2.npz", device="cpu")
    with np.load(out / "table2.npz") as z:
        assert z["NN/cosine"].mean() == pytest.approx(r["NN"]["cosine"]["mean"], abs=1e-3)
    e = evaluate_edits.evaluate(data, models / "regressor", models / "discvae", EditsConfig(**p["edits"]),
                                out / "edits.npz", tmp_path / "edits.json", device="cpu")
    with np.load(out / "edits.npz") as z:
        assert z["figure4/gender_female_to_male/on"].mean() == pytest.approx(e["figure4"]["gender_female_to_male"]["on"], abs=1e-3)
        assert len(z["figure5/vary_zb/inside"]) == p["edits"]["n_draws"]
    ledger = claims.ledger(tmp_path, ["synth-faces"])
    # 2 claims x 6 Table 1 rows, 3 Table 2 claims, 5 face progressions, 2 layer claims
    assert sum(ledger["summary"].values()) == 2 * (2 + 4) + 3 + 5 + 2


def _edits_file(folder, rows: dict, layers: dict):
    arrays = {}
    for key, (on, off, rho) in rows.items():
        arrays[f"figure4/{key}/on"], arrays[f"figure4/{key}/off"] = on, off
        arrays[f"figure4/{key}/spearman"] = np.array(rho)
    for key, (inside, outside) in layers.items():
        arrays[f"figure5/{key}/inside"], arrays[f"figure5/{key}/outside"] = inside, outside
    write_npz(folder / "edits.npz", arrays)


def test_figure4_and_figure5_claims_on_constructed_measures(tmp_path):
    rng = np.random.default_rng(4)
    on = rng.normal(2.0, 0.3, 64)
    _edits_file(tmp_path, {
        "gender": (on, rng.normal(0.2, 0.05, 64), 1.0),          # selective and monotonic
        "age": (on, rng.normal(0.2, 0.05, 64), 0.6),             # selective, not monotonic
        "eyewear": (rng.normal(0.1, 0.05, 64), rng.normal(0.5, 0.05, 64), 0.95),   # the others move more
        "expression": (on, on + rng.normal(0, 0.5, 64), 0.95),    # as much as the others
        "hair": (np.zeros(64), rng.normal(0.3, 0.05, 64), 0.0),   # the moved attribute does not move
    }, {"vary_zb": (rng.uniform(0.01, 0.02, 64), rng.uniform(0.05, 0.08, 64)),   # mostly outside: holds
        "vary_zf": (rng.uniform(0.01, 0.02, 64), rng.uniform(0.05, 0.08, 64))})  # also outside: fails
    c = claims.edit_claims(tmp_path)
    f4, f5 = c["figure4"], c["figure5"]
    assert f4["gender"]["verdict"] == "holds" and f4["gender"]["spearman"] == 1.0
    assert f4["gender"]["off_over_on"] == pytest.approx(0.1, abs=0.03)
    assert f4["age"]["verdict"] == "fails"                          # Spearman below the bar
    assert f4["eyewear"]["verdict"] == "fails" and f4["eyewear"]["ci_high"] < 0
    assert f4["expression"]["verdict"] == "inconclusive"
    assert f4["hair"]["verdict"] == "fails" and f4["hair"]["off_over_on"] is None   # no ratio over ~0
    assert f4["eyewear"]["off_over_on"] == pytest.approx(5.0, rel=0.3)
    assert f5["vary_zb"]["verdict"] == "holds" and f5["vary_zb"]["ratio"] > 2
    assert f5["vary_zf"]["verdict"] == "fails" and f5["vary_zf"]["ratio"] < 0.5
    assert all(v["verdict_code"] == claims.CODES[v["verdict"]] for v in claims.iter_claims(c))
