"""The report's "Why claims fail": each paragraph on constructed ledgers, metrics and training
curves whose reading is known."""

import pytest

from attr2img.data.loader import ProcessedDataset
from attr2img.errors import ArtifactError
from attr2img.evidence import (READS_WELL, evidence_section, figure4_paragraphs, foreground_share, last_epochs,
                               table1_paragraphs, table2_paragraph)


def claim(text: str, verdict: str, mean=1.0, lo=0.5, hi=1.5, **extra) -> dict:
    return {"claim": text, "verdict": verdict, "mean_diff": mean, "ci_low": lo, "ci_high": hi, **extra}


def write_curve(path, losses, recons):
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["epoch\ttrain_loss\ttrain_recon"] + [f"{i + 1}\t{l}\t{r}" for i, (l, r) in enumerate(zip(losses, recons))]
    path.write_text("\n".join(rows) + "\n")


def test_table2_compares_nn_blur_and_the_samples():
    t2 = {"NN": {"cosine": {"mean": 0.94}}, "NNblur": {"cosine": {"mean": 0.86}},
          "cvae": {"cosine": {"mean": 0.70}}, "discvae": {"cosine": {"mean": 0.90}},
          "regressor_on_test_images": {"cosine": {"mean": 0.95}}, "n_samples": 10,
          "NN_label_distance": {"mse": {"mean": 0.2}}, "noise_ceiling": {"mse": {"mean": 0.1}}}
    claims = {"cvae_gt_NN": claim("CVAE > NN in cosine similarity", "fails"),
              "discvae_gt_NN": claim("disCVAE > NN in cosine similarity", "inconclusive"),
              "NN_gt_NNblur": claim("NN > NNblur in cosine similarity", "holds")}
    [text] = table2_paragraph("d", claims, t2)
    assert "CVAE > NN fails" in text and "disCVAE > NN" not in text      # only the failing claims are named
    assert "2.0 times the label noise" in text and "takes it to 0.860" in text
    assert "close to the queried attributes" in text
    far = {**t2, "NN_label_distance": {"mse": {"mean": 0.6}}}      # 6 times the noise: not a near twin
    assert "6.0 times the label noise" in (far_text := table2_paragraph("d", claims, far)[0])
    assert "attributes well away from the queried ones" in far_text and "close to" not in far_text
    # each generator is placed on its own: the CVAE's 0.70 below the blur, the disCVAE's 0.90 above it
    assert "CVAE 0.700, below the blurred image; disCVAE 0.900, between the blurred and the sharp image." in text
    assert "the judge reads less" not in text
    t2["discvae"]["cosine"]["mean"] = 0.96                               # a generator that beats NN is said to
    assert "disCVAE 0.960, above the sharp image." in table2_paragraph("d", claims, t2)[0]
    t2["discvae"]["cosine"]["mean"] = 0.5
    text = table2_paragraph("d", claims, t2)[0]
    assert "CVAE 0.700 and disCVAE 0.500, below the blurred image: the judge reads less" in text
    claims["cvae_gt_NN"]["verdict"] = "holds"
    assert table2_paragraph("d", claims, t2) == []


def test_table2_quotes_a_perfect_generator_only_for_the_same_nn_reading():
    t2 = {"NN": {"cosine": {"mean": 0.94}}, "NNblur": {"cosine": {"mean": 0.86}},
          "cvae": {"cosine": {"mean": 0.70}}, "discvae": {"cosine": {"mean": 0.80}},
          "regressor_on_test_images": {"cosine": {"mean": 0.95}}, "n_samples": 10}
    claims = {"cvae_gt_NN": claim("CVAE > NN in cosine similarity", "fails")}
    interval = {"mean_diff": 0.03, "ci_low": 0.02, "ci_high": 0.04, "n": 200}
    oracle = {"n_samples": 10, "rows": {"NN": {"cosine": 0.94},
                                        "oracle_best": {"cosine": 0.97, "minus_NN": interval, "above_NN": "holds"},
                                        "oracle_one": {"cosine": 0.95, "minus_NN": interval, "above_NN": "holds"}}}
    text = table2_paragraph("d", claims, t2, oracle)[0]
    assert "scores 0.970 as its best of 10 samples, +0.030 [+0.020, +0.040] against NN" in text
    assert "0.950 with one sample: the claim is within reach" in text
    assert "the generators' best of 10 are 0.17 to 0.27 below the renderer's" in text
    # a renderer that does not beat NN says the claim is out of any generator's reach
    oracle["rows"]["oracle_best"].update(above_NN="inconclusive", minus_NN={**interval, "ci_low": -0.01})
    assert "even the renderer does not beat NN" in table2_paragraph("d", claims, t2, oracle)[0]
    # a measurement of another judge or data (another NN reading) is not quoted
    t2["NN"]["cosine"]["mean"] = 0.93
    text = table2_paragraph("d", claims, t2, oracle)[0]
    assert "judged another NN reading" in text and "0.970" not in text
    assert "perfect generator" not in table2_paragraph("d", claims, t2)[0]


@pytest.mark.parametrize("slower, reading", [(True, "further from convergence"),
                                             (False, "do not single out under-training")])
def test_table1_reads_the_training_curves(tiny_datasets, tmp_path, slower, reading):
    data = tiny_datasets["synth-birds"][1]
    # the disCVAE ends with the larger reconstruction and still falls faster, or the other way round
    write_curve(tmp_path / "d" / "discvae.tsv", [2000, 1500] if slower else [1600, 1580], [900, 800] if slower else [700, 690])
    write_curve(tmp_path / "d" / "cvae.tsv", [900, 880], [760, 750])
    claims = {"recon_full": {"discvae_lt_cvae": claim("disCVAE < CVAE in recon_full error", "fails", 4.6, 3.2, 6.2),
                             "cvae_lt_vae": claim("CVAE < VAE in recon_full error", "holds", -1, -2, -0.5)},
              "recon_fg": {"discvae_lt_cvae": claim("disCVAE < CVAE in recon_fg error", "fails", 2, 0.1, 4)}}
    t1 = {g: {"n_images": 4} for g in ("vae", "cvae", "discvae")}
    [text] = table1_paragraphs("d", claims, t1, tmp_path, data)
    assert "disCVAE < CVAE fails** on 2 rows (recon_full +4.60 [+3.20, +6.20]; recon_fg" in text
    assert "CVAE < VAE" not in text and reading in text
    share = float(ProcessedDataset(data, "test").masks[:4].float().mean() / 255)     # stored as 0 / 255
    assert 0 < share < 1 and foreground_share(data, 4) == pytest.approx(share)
    assert f"The foreground is {share:.0%} of the test images' pixels" in text
    if slower:
        assert "loss of 800 per image against the CVAE's 750" in text and "fell 25.0% in that epoch against 2.2%" in text


def test_a_single_epoch_has_no_trend_and_a_missing_curve_is_named(tmp_path):
    write_curve(tmp_path / "one.tsv", [10], [5])
    prev, last = last_epochs(tmp_path / "one.tsv")
    assert prev is None and last["train_recon"] == 5
    with pytest.raises(ArtifactError, match="missing .*none.tsv.*attr2img train"):
        last_epochs(tmp_path / "none.tsv")


def test_figure4_says_whether_the_judge_or_the_samples_fail():
    edits = {"figure4": {"row": {"label": "gender: female → male", "on": 0.01, "off": 0.16, "spearman": 0.14,
                                 "judge_on_real": 0.98}}}
    claims = {"row": claim("gender ...", "fails")}
    [text] = figure4_paragraphs("d", claims, edits, binary=False)
    assert "travels +0.01" in text and "0.16 on average" in text and "Pearson r 0.98" in text
    assert "the disCVAE's samples that do not show the change" in text
    edits["figure4"]["row"]["judge_on_real"] = READS_WELL - 0.1
    assert "the judge limits this row" in figure4_paragraphs("d", claims, edits, binary=True)[0]
    assert "AUC" in figure4_paragraphs("d", claims, edits, binary=True)[0]
    claims["row"]["verdict"] = "inconclusive"
    assert figure4_paragraphs("d", claims, edits, binary=False) == []


def test_a_ledger_without_failures_says_so(tiny_datasets, tmp_path):
    import json

    root = tiny_datasets["synth-faces"][1].parent
    metrics = tmp_path / "metrics"
    for sub, name in (("table1/synth-faces", "vae"), ("table1/synth-faces", "cvae"), ("table1/synth-faces", "discvae"),
                      ("table2", "synth-faces"), ("edits", "synth-faces")):
        (metrics / sub).mkdir(parents=True, exist_ok=True)
        (metrics / sub / f"{name}.json").write_text(json.dumps({"n_images": 4}))
    ledger = {"synth-faces": {"table1": {"recon_full": {"cvae_lt_vae": claim("CVAE < VAE", "holds")}}}}
    md = evidence_section(ledger, metrics, tmp_path / "plots", root, ["synth-faces"])
    assert md[0] == "## Why claims fail: the evidence" and "Every claim holds or is inconclusive." in md


def test_table1_reads_the_test_masks_once_per_dataset(tmp_path, monkeypatch):
    """Two failing pairs on one dataset share one foreground share (the test masks are read once)."""
    import attr2img.evidence as evidence

    calls = []
    monkeypatch.setattr(evidence, "foreground_share", lambda data_dir, n: calls.append(n) or 0.25)
    for m in ("vae", "cvae", "discvae"):
        write_curve(tmp_path / "d" / f"{m}.tsv", [900, 880], [760, 750])
    claims = {"recon_full": {"discvae_lt_cvae": claim("disCVAE < CVAE", "fails"),
                             "cvae_lt_vae": claim("CVAE < VAE", "fails")}}
    t1 = {g: {"n_images": 4} for g in ("vae", "cvae", "discvae")}
    texts = table1_paragraphs("d", claims, t1, tmp_path, tmp_path / "data")
    assert len(texts) == 2 and all("The foreground is 25% of" in t for t in texts)
    assert calls == [4]
