"""Do Table 1's orderings depend on the posterior-inference budget? (issue 12, item 5: the
default runs at most ``inference.iterations`` = 30 Adam steps from the recognition warm start,
where the paper runs 1,000 from z = 0, and every generator uses the whole budget.)

Runs the Table 1 stage's own evaluation (``evaluate_recon.evaluate``) on the first ``--n``
*validation* images (the test split chooses nothing) of each committed generator, once per
iteration budget, everything else as in params.yaml ``inference``, and judges the Table 1
claims on them with the claims stage's own paired bootstrap (``claims.table1_claims``):

    python benchmarks/inference_budget.py --dataset synth-birds --iterations 30 100 300

Prints, per budget and cell, each model's mean error (x10^3 MSE), the mean decoder
evaluations, and the verdicts of disCVAE < CVAE and CVAE < VAE. Needs the prepared data and
the trained models (``dvc repro``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import yaml

from attr2img.catalog import GENERATORS
from attr2img.config import from_mapping
from attr2img.inference.claims import table1_claims
from attr2img.inference.config import EvaluationConfig
from attr2img.inference.evaluate_recon import evaluate


def run_budget(dataset: str, iterations: int, base: EvaluationConfig, folder: Path, n: int,
               models: Path, data: Path) -> dict:
    """Evaluate every generator (``models/<model>``) at ``iterations`` on ``n`` validation images
    of ``data`` into ``folder``; returns {model: metrics} and leaves the per-image npz files the
    claims read."""
    cfg = dataclasses.replace(base, iterations=iterations, n_test=n)
    folder.mkdir(parents=True, exist_ok=True)
    return {m: evaluate(models / m, data, dataset, cfg, folder / f"{m}.json", folder / f"{m}.npz", device="cpu",
                        split="val") for m in GENERATORS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--dataset", default="synth-birds")
    ap.add_argument("--iterations", type=int, nargs="+", default=[30, 100, 300])
    ap.add_argument("--n", type=int, default=128, help="validation images (the stage uses 128 test images)")
    ap.add_argument("--rtol", type=float, help="early stopping's tolerance (default: params.yaml's; 0 = off, "
                                                "every budget spent in full)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    params = yaml.safe_load(open(args.params))
    base = from_mapping(EvaluationConfig, params["inference"])
    if args.rtol is not None:
        base = dataclasses.replace(base, rtol=args.rtol)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for it in args.iterations:
            t0 = time.perf_counter()
            metrics = run_budget(args.dataset, it, base, Path(tmp) / str(it), args.n, Path("models") / args.dataset,
                                 Path("data/processed") / args.dataset)
            claims = table1_claims(Path(tmp) / str(it))
            results[it] = {"seconds": round(time.perf_counter() - t0, 1), "metrics": metrics,
                           "claims": {cell: {k: {f: c[f] for f in ("mean_diff", "ci_low", "ci_high", "verdict")}
                                             for k, c in pair.items()} for cell, pair in claims.items()}}
    print(f"{args.dataset}: {args.n} validation images; init {base.init}, rtol {base.rtol}, lr {base.lr}, "
          f"lam {base.lam}\n")
    print("| iterations (at most) | cell | VAE | CVAE | disCVAE | disCVAE − CVAE [95 %] | CVAE − VAE [95 %] | "
          "decoder evaluations (VAE / CVAE / disCVAE) |")
    print("|---|---|---|---|---|---|---|---|")
    for it, r in results.items():
        for cell, pair in r["claims"].items():
            task = "recon" if cell.startswith("recon") else cell.removeprefix("complete_")
            errs = " | ".join(f"{r['metrics'][m][cell]['mean']:.2f}" for m in GENERATORS)
            d, c = pair["discvae_lt_cvae"], pair["cvae_lt_vae"]
            evals = " / ".join(f"{r['metrics'][m]['decoder_evaluations'][task]:.0f}" for m in GENERATORS)
            print(f"| {it} | {cell} | {errs} | {d['mean_diff']:+.2f} [{d['ci_low']:+.2f}, {d['ci_high']:+.2f}] "
                  f"{d['verdict']} | {c['mean_diff']:+.2f} [{c['ci_low']:+.2f}, {c['ci_high']:+.2f}] {c['verdict']} "
                  f"| {evals} |")
    print("\nseconds per budget (three generators): " + ", ".join(f"{it}: {r['seconds']}" for it, r in results.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
