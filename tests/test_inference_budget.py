"""benchmarks/inference_budget.py: the Table 1 stage's evaluation and claims, on validation
images (the test split chooses nothing), at the budget it is given."""

import numpy as np

from attr2img.config import from_mapping
from attr2img.data.loader import ProcessedDataset
from attr2img.inference.claims import table1_claims
from attr2img.inference.config import EvaluationConfig
from conftest import GENERATORS, load_benchmark


def test_each_budget_runs_every_generator_on_validation_images(tiny_models, tiny_params, tmp_path):
    budget = load_benchmark("inference_budget")
    models, data = tiny_models["synth-birds"]
    base = from_mapping(EvaluationConfig, {**tiny_params["inference"], "rtol": 0.0})   # no early stop
    val_ids = ProcessedDataset(data, "val").ids
    test_ids = ProcessedDataset(data, "test").ids
    spent = {}
    for it in (1, 3):
        metrics = budget.run_budget("synth-birds", it, base, tmp_path / str(it), 4, models, data)
        assert set(metrics) == set(GENERATORS)
        spent[it] = metrics["cvae"]["decoder_evaluations"]["recon"]
        for m in GENERATORS:
            ids = np.load(tmp_path / str(it) / f"{m}.npz")["per_image/ids"]
            assert list(ids) == list(val_ids[:4]) and set(ids).isdisjoint(test_ids)
        claims = table1_claims(tmp_path / str(it))                   # the claims stage's own judge
        assert {"recon_full", "recon_fg"} <= set(claims)
        assert all(set(pair) == {"discvae_lt_cvae", "cvae_lt_vae"} for pair in claims.values())
    assert spent[3] > spent[1]                                         # the budget is the one given
