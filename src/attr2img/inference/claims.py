"""Stage ``claims``: the paper's orderings as claims, each with a verdict from paired statistics.

Every claim compares two methods on the same test items: Table 1 on the same test images
(per-image errors from ``evaluate-recon``), Table 2 on the same test attribute vectors (per-
vector cosines from ``evaluate-attributes``). For each claim the per-item differences
``A − B`` get a 95 % interval for their mean (percentile bootstrap, 10,000 resamples, a fixed
seed, so the same inputs give the same interval), and the verdict is:

- **holds**: the interval lies wholly on the side the paper claims;
- **fails**: it lies wholly on the other side;
- **inconclusive**: it contains zero.

Claims (Yan et al. 2016): Table 1, on every row and dataset, disCVAE < CVAE and CVAE < VAE
in error (the paper: disCVAE < CVAE ≤ VAE; equality counts as inconclusive here); Table 2,
CVAE > NN, disCVAE > NN and NN > NNblur in cosine similarity.

Figures 4 and 5, from ``evaluate-edits`` (paired per latent draw):

- Figure 4, each progression: moving an attribute changes that attribute and not the others.
  It holds when the regressor's reading of the moved attribute rises monotonically along the
  row (Spearman ≥ ``MIN_SPEARMAN`` of the row's trend) and the interval of ``on − off`` (the
  moved attribute's change minus the others', in training standard deviations) lies above
  zero. A Spearman below the bar, or an interval below zero, fails.
- Figure 5: varying z_B changes mostly pixels outside the gate (``outside − inside`` > 0),
  and varying z_F mostly pixels inside it (``inside − outside`` > 0).

Writes a DVC metrics file: ``dvc metrics diff`` shows a verdict that flips between commits
(``verdict_code``: 1 holds, 0 inconclusive, −1 fails).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from attr2img.artifacts import read_npz
from attr2img.atomic import write_json
from attr2img.catalog import CONDITIONAL, GENERATORS, LABELS
from attr2img.errors import ArtifactError
from attr2img.scores import others_over_moved

N_BOOT, SEED, CONFIDENCE = 10_000, 0, 0.95
CODES = {"holds": 1, "inconclusive": 0, "fails": -1}
TABLE1_CLAIMS = (("discvae", "cvae"), ("cvae", "vae"))              # first < second, in error
TABLE2_CLAIMS = tuple((g, "NN") for g in CONDITIONAL) + (("NN", "NNblur"),)   # first > second, in cosine
MIN_SPEARMAN = 0.9


def paired_interval(a: np.ndarray, b: np.ndarray, n_boot: int = N_BOOT, seed: int = SEED) -> dict:
    """Mean of the paired differences a − b and its bootstrap interval at ``CONFIDENCE``."""
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    if d.ndim != 1 or len(d) < 2:
        raise ValueError(f"paired comparison needs two equal 1-D samples of at least 2 items, got {d.shape}")
    means = d[np.random.default_rng(seed).integers(0, len(d), (n_boot, len(d)))].mean(1)
    lo, hi = np.quantile(means, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    return {"mean_diff": round(float(d.mean()), 6), "ci_low": round(float(lo), 6), "ci_high": round(float(hi), 6),
            "n": int(len(d))}


def verdict(interval: dict, claimed: str) -> str:
    """``claimed``: "less" (the paper says A < B) or "greater" (A > B)."""
    below, above = interval["ci_high"] < 0, interval["ci_low"] > 0
    if not (below or above):
        return "inconclusive"
    return "holds" if (below if claimed == "less" else above) else "fails"


def judge(a, b, claimed: str, text: str) -> dict:
    interval = paired_interval(a, b)
    v = verdict(interval, claimed)
    return {"claim": text, **interval, "verdict": v, "verdict_code": CODES[v]}


def table1_claims(folder: Path) -> dict:
    runs = {m: read_npz(folder / f"{m}.npz", "attr2img evaluate-recon") for m in GENERATORS}
    for m, r in runs.items():
        if not np.array_equal(r["per_image/ids"], runs["vae"]["per_image/ids"]):
            raise ArtifactError(f"{folder / m}.npz holds other test images than vae.npz; rerun evaluate-recon")
    tasks = sorted(k.split("/", 1)[1] for k in runs["vae"] if k.startswith("per_image/") and k != "per_image/ids")
    out = {}
    for task in tasks:
        out[task] = {f"{a}_lt_{b}": judge(runs[a][f"per_image/{task}"], runs[b][f"per_image/{task}"], "less",
                                          f"{LABELS[a]} < {LABELS[b]} in {task} error")
                     for a, b in TABLE1_CLAIMS}
    return out


def table2_claims(folder: Path) -> dict:
    r = read_npz(folder / "table2.npz", "attr2img evaluate-attributes --per-vector")
    name = {**LABELS, "NN": "NN", "NNblur": "NNblur"}
    return {f"{a}_gt_{b}": judge(r[f"{a}/cosine"], r[f"{b}/cosine"], "greater",
                                 f"{name[a]} > {name[b]} in cosine similarity") for a, b in TABLE2_CLAIMS}


def progression_claim(on, off, spearman: float, label: str) -> dict:
    """Figure 4, one row: monotonic (Spearman) and selective (paired on − off above zero)."""
    c = judge(on, off, "greater", f"{label}: the moved attribute rises monotonically "
                                  f"(Spearman ≥ {MIN_SPEARMAN}) and moves more than the others")
    c["spearman"] = round(float(spearman), 4)
    c["off_over_on"] = others_over_moved(on, off)
    if spearman < MIN_SPEARMAN:
        c["verdict"] = "fails"
    c["verdict_code"] = CODES[c["verdict"]]
    return c


def edit_claims(folder: Path) -> dict:
    r = read_npz(folder / "edits.npz", "attr2img evaluate-edits")
    rows = sorted({k.split("/")[1] for k in r if k.startswith("figure4/")})
    fig4 = {row: progression_claim(r[f"figure4/{row}/on"], r[f"figure4/{row}/off"],
                                   float(np.ravel(r[f"figure4/{row}/spearman"])[0]), row.replace("_", " "))
            for row in rows}
    fig5 = {}
    for key, (more, less), text in (("vary_zb", ("outside", "inside"), "varying z_B changes pixels outside the gate "
                                                                      "more than inside"),
                                    ("vary_zf", ("inside", "outside"), "varying z_F changes pixels inside the gate "
                                                                      "more than outside")):
        a, b = r[f"figure5/{key}/{more}"], r[f"figure5/{key}/{less}"]
        fig5[key] = {**judge(a, b, "greater", text), "ratio": round(float(np.mean(a) / max(np.mean(b), 1e-12)), 4)}
    return {"figure4": fig4, "figure5": fig5}


def ledger(inference_dir, datasets) -> dict:
    out, counts = {}, {v: 0 for v in CODES}
    for d in datasets:
        folder = Path(inference_dir) / d
        out[d] = {"table1": table1_claims(folder), "table2": table2_claims(folder), **edit_claims(folder)}
        for c in iter_claims(out[d]):
            counts[c["verdict"]] += 1
    out["summary"] = counts
    return out


def iter_claims(node):
    """Every claim (a dict with a verdict) under ``node``, in order."""
    if isinstance(node, dict) and "verdict" in node:
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from iter_claims(v)


def add_arguments(p) -> None:
    p.add_argument("--inference", required=True, help="folder of the per-item results (<dataset>/<model>.npz, "
                                                       "<dataset>/table2.npz, <dataset>/edits.npz)")
    p.add_argument("--out", required=True, help="output metrics JSON, e.g. results/metrics/claims.json")


def main(args, params: dict) -> None:
    result = ledger(args.inference, params["datasets"])
    write_json(args.out, result)
    print(f"wrote {args.out}: " + ", ".join(f"{n} {v}" for v, n in result["summary"].items()))
