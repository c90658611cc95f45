"""Benchmark: LFW's landmark detection (MTCNN), batched against one image at a time (issue 6).

250x250 frames like LFW's funneled images: scikit-image's astronaut under random similarity
transforms (a real face; LFW itself cannot be downloaded here), plus one texture with no face.
Reports images/s of ``lfw.landmarks`` at batch 1 and at the batch size ``lfw.prepare`` uses,
and the largest landmark difference between the two.

    python benchmarks/lfw_landmarks.py [-n 96] [--batch 32] [--device cpu]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from skimage import data as skdata
from skimage.transform import SimilarityTransform, warp

from attr2img.data.real import lfw


def frames(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    face = skdata.astronaut()[30:230, 130:330]
    out = []
    for _ in range(n):
        t = SimilarityTransform(scale=rng.uniform(0.9, 1.2), rotation=rng.uniform(-0.1, 0.1),
                                translation=rng.uniform(10, 40, size=2))
        out.append(warp(face, t.inverse, output_shape=(250, 250), mode="edge", preserve_range=True).astype(np.uint8))
    out[n // 2] = (rng.random((250, 250, 3)) * 255).astype(np.uint8)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=96)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--device", default=None, help="cpu or cuda (default: CUDA when present)")
    args = ap.parse_args()
    images, mtcnn = frames(args.n), lfw.detector(args.device)
    lfw.landmarks(mtcnn, images[:4])                                     # warm-up
    results = {}
    for batch in (1, args.batch):
        t = time.perf_counter()
        results[batch] = lfw.landmarks(mtcnn, images, batch=batch)
        dt = time.perf_counter() - t
        print(f"batch {batch:3d}: {args.n / dt:6.1f} images/s ({dt:.2f} s for {args.n})")
    gap = max(float(np.abs(a - b).max()) for a, b in zip(results[1], results[args.batch]) if a is not None)
    misses = sum(p is None for p in results[args.batch])
    print(f"largest landmark difference {gap:.2e} px; {misses} image(s) without a face")


if __name__ == "__main__":
    main()
