"""How far above NN can any generator get in Table 2? (issue 12: "generators > NN may be out
of reach on synth-faces as designed ... say so with the evidence".)

A synthetic dataset's renderer is the one generator that is known to be perfect: it draws
images from the data's own distribution. This benchmark re-renders each of Table 2's test
vectors' items ``--samples`` times (Table 2's ``n_samples``) with their own semantic factors,
the ones the attributes describe, and fresh nuisance factors: pose, position, lighting,
background and the rest (``sample_nuisance`` of the dataset's generator module). That is a
generator that knows the item's true attributes, at least as well placed as any model of
p(x | y). The committed judge scores the samples as the Table 2 stage scores a generator's
(best of the samples by cosine to the query vector), and the claims stage's paired bootstrap
compares them with NN, per test vector:

    python benchmarks/oracle_generator.py --write docs/oracle_generator.json --machine "AMD EPYC 2-vCPU VM"

Rows: the oracle's best of n and its first sample alone (a single draw, which should score as
the real test images do: a check of the method), the real test images, NN (the nearest training
image, chosen as the Table 2 stage chooses it), and, once the generators are trained, the stage's
own rows (NNblur, CVAE, disCVAE; ``results/inference/<dataset>/table2.npz``, whose NN must read as
this one does). A diagnosis on the test vectors the claim is judged on; nothing is chosen by it.
Needs the prepared data and the trained judge only (``dvc repro train-regressor@<dataset>``), so a
dataset can be measured before any generator is trained on it (issue 32); a few seconds per
dataset on 2 CPU cores. ``--write`` saves the results where the report's Table 2 evidence reads
them (``attr2img report --oracle``).
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import numpy as np
import torch
import yaml

from attr2img.atomic import write_json
from attr2img.data import synth
from attr2img.data.loader import ProcessedDataset
from attr2img.errors import ArtifactError
from attr2img.images import to_model_space
from attr2img.inference.claims import paired_interval, verdict
from attr2img.inference.evaluate_attributes import nearest_training, predict
from attr2img.models.store import load_model
from attr2img.scores import cosine

STAGE_ROWS = ("NNblur", "cvae", "discvae")


def test_items(dataset: str, params: dict, prepared: np.ndarray) -> dict:
    """The factors of the first ``len(prepared)`` test items of ``dataset``, regenerated from
    params.yaml's ``data`` section, after checking that their attributes are ``prepared``, the
    prepared test split's."""
    gen, cfg = synth.DATASETS[dataset], params["data"][dataset]
    rng = np.random.default_rng(cfg["seed"])
    factors = synth.float32(gen.sample_factors(rng, cfg["n_train"] + cfg["n_val"] + cfg["n_test"]))
    attributes = gen.attributes(rng, factors)
    test = slice(cfg["n_train"] + cfg["n_val"], cfg["n_train"] + cfg["n_val"] + len(prepared))
    if not np.array_equal(attributes[test], prepared):
        raise ArtifactError(f"the prepared {dataset} test attributes are not those that params.yaml's data.{dataset} "
                            f"(seed {cfg['seed']}, split sizes {cfg['n_train']}/{cfg['n_val']}/{cfg['n_test']}) "
                            f"renders; run `dvc repro` first")
    return {k: v[test] for k, v in factors.items()}


def oracle_images(dataset: str, items: dict, k: int, seed: int) -> np.ndarray:
    """``k`` uint8 images per item, grouped by item: the item's semantic factors, nuisance drawn afresh."""
    gen = synth.DATASETS[dataset]
    semantic = {key: np.repeat(items[key], k, axis=0) for key in gen.SEMANTIC}
    factors = {**semantic, **gen.sample_nuisance(np.random.default_rng(seed), semantic)}
    return synth.render(dataset, factors)[0]


def judged_cosines(regressor, images_u8: np.ndarray, y: torch.Tensor) -> torch.Tensor:
    """(len(y), k) cosines of the judge's readings of ``images_u8`` (k per vector, grouped) to y."""
    pred = predict(regressor, to_model_space(torch.from_numpy(images_u8)))
    return cosine(pred.view(len(y), -1, pred.shape[-1]), y[:, None, :])


def stage_rows(table2: Path | None, ids: list, nn: np.ndarray) -> dict:
    """The Table 2 stage's generator rows from ``table2`` (none when it is None: ``--judge-only``),
    after checking that it scored the same test vectors and that its NN reads as this benchmark's."""
    if table2 is None:
        return {}
    if not Path(table2).exists():
        raise ArtifactError(f"{table2} is missing: run `dvc repro` first, or measure the judge alone with --judge-only")
    stage = np.load(table2)
    if list(stage["ids"]) != ids or not np.allclose(stage["NN/cosine"], nn, atol=1e-4):
        raise ArtifactError(f"{table2} is not the Table 2 stage's output for this data and judge "
                            f"(other test vectors, or another NN reading); run `dvc repro` first")
    return {name: stage[f"{name}/cosine"] for name in STAGE_ROWS}


def run(dataset: str, params: dict, data_dir: Path, regressor_dir: Path, table2: Path | None = None,
        seed: int = 0) -> dict:
    """Per-vector cosines of every row (``ROWS``), and each row's paired comparison with NN;
    the generators' rows only where ``table2`` is given."""
    n, k = params["table2"]["n_test"], params["table2"]["n_samples"]
    test = ProcessedDataset(data_dir, "test").head(n)
    train = ProcessedDataset(data_dir, "train")
    regressor, _ = load_model(regressor_dir, "cpu")
    with torch.no_grad():
        items = test_items(dataset, params, test.attributes.numpy())
        oracle = judged_cosines(regressor, oracle_images(dataset, items, k, seed), test.attributes)
        real = judged_cosines(regressor, test.images.numpy(), test.attributes)[:, 0]
        nearest = train.images[nearest_training(test.attributes, train.attributes)]
        nn = judged_cosines(regressor, nearest.numpy(), test.attributes)[:, 0].numpy()
    cos = {"NN": nn, "oracle_best": oracle.max(1).values.numpy(), "oracle_one": oracle[:, 0].numpy(),
           "real_test_images": real.numpy(), **stage_rows(table2, list(test.ids), nn)}
    out = {"n_test": n, "n_samples": k, "rows": {}}
    for name, c in cos.items():
        row = {"cosine": round(float(np.mean(c)), 4)}
        if name != "NN":
            row["minus_NN"] = paired_interval(c, cos["NN"])
            row["above_NN"] = verdict(row["minus_NN"], "greater")
        out["rows"][name] = row
    out["generators_minus_oracle"] = {g: paired_interval(cos[g], cos["oracle_best"])
                                      for g in ("cvae", "discvae") if g in cos}
    return out


ROWS = {"NN": "NN", "oracle_best": "oracle, best of {k}", "oracle_one": "oracle, one sample",
        "real_test_images": "real test images", **{name: name for name in STAGE_ROWS}}


def print_table(dataset: str, r: dict) -> None:
    k = r["n_samples"]
    print(f"{dataset}: {r['n_test']} test vectors, Table 2's judge; cosine to the query, and minus NN's "
          f"(paired, 95 % bootstrap interval)")
    print("| row | cosine | minus NN | above NN |\n|---|---|---|---|")
    for name, row in r["rows"].items():
        d = row.get("minus_NN")
        diff = f"{d['mean_diff']:+.4f} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]" if d else "—"
        print(f"| {ROWS[name].format(k=k)} | {row['cosine']:.4f} | {diff} | {row.get('above_NN', '—')} |")
    for g, d in r["generators_minus_oracle"].items():
        print(f"{g} minus the oracle's best of {k}: {d['mean_diff']:+.4f} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--datasets", nargs="+", default=sorted(synth.DATASETS), choices=sorted(synth.DATASETS))
    ap.add_argument("--seed", type=int, default=0, help="seed of the oracle's nuisance draws")
    ap.add_argument("--judge-only", action="store_true",
                    help="leave out the generators' rows: measure new data once its judge is trained, before any generator is")
    ap.add_argument("--write", help="save the results for the report (docs/oracle_generator.json)")
    ap.add_argument("--machine", help="where it ran, in words (required with --write)")
    args = ap.parse_args()
    if args.write and not args.machine:
        ap.error("--write needs --machine")
    params = yaml.safe_load(open(args.params))
    results = {}
    for dataset in args.datasets:
        results[dataset] = run(dataset, params, Path("data/processed") / dataset,
                               Path("models") / dataset / "regressor",
                               None if args.judge_only else Path("results/inference") / dataset / "table2.npz", args.seed)
        print_table(dataset, results[dataset])
    if args.write:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        summary = {"measured_on": {"machine": args.machine, "commit": head, "seed": args.seed}, "datasets": results}
        write_json(args.write, summary)


if __name__ == "__main__":
    main()
