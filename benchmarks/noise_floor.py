"""Benchmark: the seed-to-seed spread of every metric (issue 12, item 6).

Reads the committed metrics of ``HEAD`` (training seed 0, the default run) and of the DVC
experiments named on the command line (the same pipeline with other training seeds, run as
docs/benchmarks.md says), straight from git: DVC keeps each experiment as a ref under
``refs/exps``. Prints, per metric group, the spread across seeds (standard deviation and
max − min of every cell); per claim group, how far a claim's paired mean difference moves
between seeds against the half-width of the interval one run reports; and the claim
verdicts that differ between seeds.

    python benchmarks/noise_floor.py seed1 seed2 --write docs/noise_floor.json --machine "AMD EPYC 2-vCPU VM"

``--write`` also saves the summary the report's noise note and the README quote
(``docs/noise_floor.json``; ``attr2img.report.noise_note`` renders it): the median and largest
seed standard deviation of a Table 1 cell and of a generator's Table 2 cosine, the threshold a
``dvc metrics diff`` must exceed (``threshold``: twice the median, rounded up), and which
verdicts flipped.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
from collections import defaultdict
from pathlib import Path

import numpy as np

from attr2img.atomic import atomic_path
from attr2img.report import GROUP_NAMES

FILES = ["results/metrics/table1/{d}/{m}.json", "results/metrics/table2/{d}.json", "results/metrics/edits/{d}.json"]
DATASETS, MODELS = ("synth-faces", "synth-birds"), ("vae", "cvae", "discvae")


def git_show(rev: str, path: str):
    out = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else None


def exp_ref(name: str) -> str:
    refs = subprocess.run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"], capture_output=True,
                          text=True, check=True).stdout.split()
    found = [r for r in refs if r.rsplit("/", 1)[-1] == name]
    if not found:
        raise SystemExit(f"no DVC experiment named {name!r} (dvc exp list)")
    return found[-1]


def leaves(node, prefix=""):
    """(key, value) for every number under ``node``; a {"mean": .., "sem": ..} cell gives its mean."""
    if isinstance(node, dict):
        if "mean" in node and isinstance(node["mean"], (int, float)):
            yield prefix, float(node["mean"])
            return
        for k, v in node.items():
            yield from leaves(v, f"{prefix}/{k}" if prefix else k)
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield prefix, float(node)


COUNTERS = ("n_images", "n_draws", "n_test", "n_samples")


def kind(path: str, key: str) -> str | None:
    """The group a cell's spread is reported in (cells of one unit); None for counters, the
    dataset's constant noise ceiling, and unbounded ratios (others/moved with a moved of ~0)."""
    leaf = key.rsplit("/", 1)[-1]
    if leaf in COUNTERS or key.startswith("noise_ceiling") or leaf == "off_over_on":
        return None
    if path.startswith("table1"):
        return "Table 1 error (x10^3 MSE)" if "/" not in key else "Table 1 decoder evaluations"
    if path.startswith("table2"):
        if key.startswith("regressor_on_test_images"):
            return f"Table 2 judge on real images ({leaf})"
        return f"Table 2 {leaf}" + (" (validation vectors)" if key.startswith("validation") else "")
    if key.startswith("figure4"):
        return "Figure 4 Spearman" if leaf == "spearman" else "Figure 4 reading change (training sd)"
    return "Figure 5 inside/outside ratio" if leaf.endswith("_over_outside") else "Figure 5 pixel change"


def collect(rev: str) -> dict:
    values = {}
    for d in DATASETS:
        for pattern in FILES:
            for m in (MODELS if "{m}" in pattern else (None,)):
                path = pattern.format(d=d, m=m)
                data = git_show(rev, path)
                if data is not None:
                    for k, v in leaves(data):
                        values[f"{path.split('metrics/')[1]}:{k}"] = v
    claims = git_show(rev, "results/metrics/claims.json") or {}
    verdicts = {}

    def walk(node, prefix):
        if isinstance(node, dict) and "verdict" in node:
            verdicts[prefix] = node
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{prefix}/{k}")
    walk({k: v for k, v in claims.items() if k != "summary"}, "")
    return {"values": values, "verdicts": verdicts}


def claim_group(name: str) -> str:
    part = name.split("/")[2]
    return GROUP_NAMES.get(part, part)


def common(runs: dict, part: str) -> list[str]:
    """The metric cells (``part="values"``) or claims (``"verdicts"``) that every run has."""
    return sorted(set.intersection(*(set(r[part]) for r in runs.values())))


def cell_spread(runs: dict, key: str) -> tuple[float, float]:
    """A metric cell's standard deviation and max − min across the runs."""
    v = np.array([r["values"][key] for r in runs.values()])
    return float(v.std(ddof=1)), float(v.max() - v.min())


def flipped(runs: dict, claims: list[str]) -> list[str]:
    """The claims whose verdict differs between runs."""
    return [c for c in claims if len({r["verdicts"][c]["verdict"] for r in runs.values()}) > 1]


def threshold(median_sd: float) -> float:
    """What a metrics diff must exceed: twice the median seed sd, rounded up to half a unit of
    its leading digit (1.35 -> 1.5, 0.079 -> 0.08)."""
    x = 2 * median_sd
    if x <= 0:
        return 0.0
    step = 0.5 * 10 ** math.floor(math.log10(x))
    return round(math.ceil(round(x / step, 9)) * step, 12)


GENERATOR_COSINE = ("cvae/cosine", "discvae/cosine")      # Table 2's generators, test vectors


def summary(runs: dict, experiments: dict, machine: str) -> dict:
    """The noise floor as docs/noise_floor.json keeps it (see the module docstring)."""
    keys = common(runs, "values")

    def spread(select) -> dict:
        cells = {k: cell_spread(runs, k)[0] for k in keys if select(k)}
        if not cells:
            raise SystemExit("no metric cells in common between the runs")
        worst = max(cells, key=cells.get)
        median = float(np.median(list(cells.values())))
        return {"cells": len(cells), "median_sd": round(median, 4), "largest_sd": round(cells[worst], 4),
                "largest_cell": worst.replace(".json:", " "), "threshold": threshold(median)}

    table1 = spread(lambda k: kind(*k.split(":", 1)) == "Table 1 error (x10^3 MSE)")
    table2 = spread(lambda k: k.startswith("table2/") and k.split(":", 1)[1] in GENERATOR_COSINE)
    claims = common(runs, "verdicts")
    flips = flipped(runs, claims)
    datasets = sorted({k.split(":")[0].split("/")[1].removesuffix(".json") for k in keys})
    return {"measured_on": {"machine": machine, "seeds": len(runs), "datasets": datasets, "experiments": experiments},
            "table1": table1, "table2_generator_cosine": table2,
            "verdicts": {"claims": len(claims), "same_in_every_run": len(claims) - len(flips),
                         "flipped": [c.lstrip("/") for c in flips]}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("experiments", nargs="+", help="names of the seed experiments (dvc exp list)")
    ap.add_argument("--write", help="also save the summary the report quotes (docs/noise_floor.json)")
    ap.add_argument("--machine", help="where the runs ran, in words (required with --write)")
    args = ap.parse_args()
    if args.write and not args.machine:
        ap.error("--write needs --machine: the runs' CPU is part of the measurement")
    refs = {name: exp_ref(name) for name in args.experiments}
    runs = {"HEAD (seed 0)": collect("HEAD")} | {name: collect(ref) for name, ref in refs.items()}
    groups = defaultdict(list)
    for k in common(runs, "values"):
        g = kind(*k.split(":", 1))
        if g is not None:
            groups[g].append((k, *cell_spread(runs, k)))
    print(f"runs: {', '.join(runs)}\n")
    print("| metrics (both datasets) | cells | median sd across seeds | largest sd (cell) | largest max − min |")
    print("|---|---|---|---|---|")
    for g in sorted(groups):
        rows = groups[g]
        sds = np.array([r[1] for r in rows])
        worst = max(rows, key=lambda r: r[1])
        where = worst[0].replace(".json:", ": ")
        print(f"| {g} | {len(rows)} | {np.median(sds):.3g} | {worst[1]:.3g} ({where}) | "
              f"{max(r[2] for r in rows):.3g} |")

    # the claims: how far a paired mean difference moves between seeds, against the half-width
    # of the bootstrap interval one run reports (which covers test items, not training seeds)
    claims = common(runs, "verdicts")
    by_group = defaultdict(list)
    for c in claims:
        diffs = np.array([r["verdicts"][c]["mean_diff"] for r in runs.values()])
        half = np.mean([(r["verdicts"][c]["ci_high"] - r["verdicts"][c]["ci_low"]) / 2 for r in runs.values()])
        by_group[claim_group(c)].append((diffs.std(ddof=1), half))
    print("\n| claims | n | median sd of the paired mean difference across seeds | median half-width of one run's 95 % interval | median ratio |")
    print("|---|---|---|---|---|")
    for g in sorted(by_group):
        rows = np.array(by_group[g])
        print(f"| {g} | {len(rows)} | {np.median(rows[:, 0]):.3g} | {np.median(rows[:, 1]):.3g} | "
              f"{np.median(rows[:, 0] / rows[:, 1]):.2f} |")
    flips = flipped(runs, claims)
    steady = {v: sum(1 for c in claims if c not in flips and runs["HEAD (seed 0)"]["verdicts"][c]["verdict"] == v)
              for v in ("holds", "fails", "inconclusive")}
    print(f"\nclaim verdicts that differ between seeds: {len(flips)} of {len(claims)}; the same in every run: "
          + ", ".join(f"{n} {v}" for v, n in steady.items()))
    for c in flips:
        print(f"- {c}: " + ", ".join(f"{n} {r['verdicts'][c]['verdict']}" for n, r in runs.items()))
    if args.write:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        # an experiment's ref is refs/exps/<baseline commit, split 2/38>/<name>
        experiments = {"seed 0": f"HEAD ({head})"} | {name: "baseline " + "".join(ref.split("/")[2:4])[:7]
                                                      for name, ref in refs.items()}
        out = summary(runs, experiments, args.machine)
        with atomic_path(Path(args.write)) as tmp:
            tmp.write_text(json.dumps(out, indent=2) + "\n")
        print(f"\nwrote {args.write}: a diff means something beyond {out['table1']['threshold']} in a Table 1 "
              f"cell and {out['table2_generator_cosine']['threshold']} in a generator's Table 2 cosine")


if __name__ == "__main__":
    main()
