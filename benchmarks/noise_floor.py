"""Benchmark: the seed-to-seed spread of every metric (issue 12, item 6).

Reads the committed metrics of ``HEAD`` (training seed 0, the default run) and of the DVC
experiments named on the command line (the same pipeline with other training seeds, run as
docs/benchmarks.md says), straight from git: DVC keeps each experiment as a ref under
``refs/exps``. Prints, per metric group, the spread across seeds (standard deviation and
max − min of every cell) and how many claim verdicts differ between seeds.

    python benchmarks/noise_floor.py seed1 seed2
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections import defaultdict

import numpy as np

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
            verdicts[prefix] = node["verdict"]
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{prefix}/{k}")
    walk({k: v for k, v in claims.items() if k != "summary"}, "")
    return {"values": values, "verdicts": verdicts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("experiments", nargs="+", help="names of the seed experiments (dvc exp list)")
    args = ap.parse_args()
    runs = {"HEAD (seed 0)": collect("HEAD")} | {name: collect(exp_ref(name)) for name in args.experiments}
    keys = sorted(set.intersection(*(set(r["values"]) for r in runs.values())))
    groups = defaultdict(list)
    for k in keys:
        v = np.array([r["values"][k] for r in runs.values()])
        group = k.split(":")[0].rsplit("/", 1)[0] if k.startswith("table1") else k.split(":")[0].replace(".json", "")
        groups[group].append((k, v.std(ddof=1), v.max() - v.min(), v.mean()))
    print(f"runs: {', '.join(runs)}\n")
    print("| metrics | cells | median sd | largest sd (cell) | largest max − min |")
    print("|---|---|---|---|---|")
    for g, rows in groups.items():
        sds = np.array([r[1] for r in rows])
        worst = max(rows, key=lambda r: r[1])
        print(f"| {g} | {len(rows)} | {np.median(sds):.4g} | {worst[1]:.4g} ({worst[0].split(':')[1]}) | "
              f"{max(r[2] for r in rows):.4g} |")
    claims = sorted(set.intersection(*(set(r["verdicts"]) for r in runs.values())))
    flips = [c for c in claims if len({r["verdicts"][c] for r in runs.values()}) > 1]
    print(f"\nclaim verdicts that differ between seeds: {len(flips)} of {len(claims)}")
    for c in flips:
        print(f"- {c}: " + ", ".join(f"{n} {r['verdicts'][c]}" for n, r in runs.items()))


if __name__ == "__main__":
    main()
