"""Benchmark: the download-free LFW mask method against synth-faces' exact masks (issue 6).

The method (attr2img.data.lfw.template_mask) is a random walker seeded from the aligned face
template. synth-faces' images are not aligned to the template (their faces vary in position
and scale), so this understates what it does on aligned LFW faces.

    python benchmarks/face_masks.py [-n 200] [--seed 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from attr2img.data import lfw, synth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    data = synth.generate("synth-faces", args.n, seed=args.seed)
    t = time.perf_counter()
    ious = np.array([lfw.iou(lfw.template_mask(img), m > 127) for img, m in zip(data["images"], data["masks"])])
    dt = (time.perf_counter() - t) / args.n
    print(f"{args.n} synth-faces images: IoU mean {ious.mean():.3f}, median {np.median(ious):.3f}, "
          f"10th percentile {np.percentile(ious, 10):.3f}; {dt * 1e3:.1f} ms per image")


if __name__ == "__main__":
    main()
