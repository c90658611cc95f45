"""Benchmark: render 10,000 images of each synthetic dataset on one core.

Target (issue 2): well under a minute per dataset. Run:
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/synth_generation.py [-n 10000]
and record the output in docs/benchmarks.md together with the machine.
"""

import argparse
import os
import platform
import time

import numpy as np

from attr2img.data import synth
from attr2img.data.synth import backgrounds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})   # one core
    backgrounds.bank()  # load the photographs once, outside the timing
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus visible, "
          f"pinned to 1 core; numpy {np.__version__}")
    for name in synth.DATASETS:
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            synth.generate(name, args.n, seed=0)
            times.append(time.perf_counter() - t)
        best, med = min(times), float(np.median(times))
        print(f"{name}: {args.n} images in {best:.1f} s best, {med:.1f} s median of {args.repeats} "
              f"({args.n / best:.0f} images/s)")


if __name__ == "__main__":
    main()
