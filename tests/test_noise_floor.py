"""benchmarks/noise_floor.py's summary, which docs/noise_floor.json keeps and the report quotes."""

import pytest

from conftest import load_benchmark


@pytest.fixture(scope="module")
def nf():
    return load_benchmark("noise_floor")


@pytest.mark.parametrize("median_sd, want", [(0.674, 1.5), (0.0394, 0.08), (0.1, 0.2), (0.26, 0.55), (3.2, 6.5),
                                             (0.0, 0.0)])
def test_threshold_is_twice_the_median_rounded_up_to_half_a_leading_unit(nf, median_sd, want):
    assert nf.threshold(median_sd) == pytest.approx(want)


def _run(table1: float, cvae: float, nn: float, verdict: str) -> dict:
    return {"values": {"table1/synth-faces/vae.json:recon_full": table1,
                       "table1/synth-faces/vae.json:n_images": 128.0,       # a counter: not a metric
                       "table2/synth-faces.json:cvae/cosine": cvae,
                       "table2/synth-faces.json:NN/cosine": nn},           # a baseline: not a generator
            "verdicts": {"/synth-faces/table1/recon_full/cvae_lt_vae": {"verdict": verdict},
                         "/synth-faces/figure5/vary_zb": {"verdict": "holds"}}}


def test_summary_spreads_thresholds_and_flips_on_constructed_runs(nf):
    runs = {"seed 0": _run(10.0, 0.80, 0.9, "holds"), "s1": _run(11.0, 0.70, 0.5, "fails"),
            "s2": _run(12.0, 0.75, 0.1, "holds")}
    out = nf.summary(runs, {"s1": "baseline abc"}, "Test VM")
    assert out["table1"]["cells"] == 1 and out["table1"]["median_sd"] == pytest.approx(1.0)
    assert out["table1"]["threshold"] == pytest.approx(2.0)
    assert out["table1"]["largest_cell"] == "table1/synth-faces/vae recon_full"
    t2 = out["table2_generator_cosine"]
    assert t2["cells"] == 1 and t2["median_sd"] == pytest.approx(0.05) and t2["threshold"] == pytest.approx(0.1)
    assert out["verdicts"] == {"claims": 2, "same_in_every_run": 1,
                               "flipped": ["synth-faces/table1/recon_full/cvae_lt_vae"]}
    assert out["measured_on"] == {"machine": "Test VM", "seeds": 3, "datasets": ["synth-faces"],
                                  "experiments": {"s1": "baseline abc"}}
