"""Benchmark: the LFW mask methods against synth-faces' exact masks (issue 6).

The download-free method (attr2img.data.real.lfw.template_mask) is a random walker seeded from the
aligned face template; synth-faces' images are not aligned to the template (their faces vary
in position and scale), so this understates it on aligned LFW faces. For comparison, the
segmentation network that lfw.prepare trains on the Part Labels (attr2img.data.real.partlabels),
trained here on other synth-faces images (a stand-in for the Part Labels).

    python benchmarks/face_masks.py [-n 200] [--seed 5] [--train 400] [--epochs 30]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from attr2img.data import synth
from attr2img.data.real import lfw, partlabels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--train", type=int, default=400, help="synth-faces images to train the network on")
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args()
    data = synth.generate("synth-faces", args.n, seed=args.seed)
    t = time.perf_counter()
    truth = data["masks"] > 127
    ious = partlabels.ious(np.stack([lfw.template_mask(img) for img in data["images"]]), truth)
    dt = (time.perf_counter() - t) / args.n
    print(f"{args.n} synth-faces images: IoU mean {ious.mean():.3f}, median {np.median(ious):.3f}, "
          f"10th percentile {np.percentile(ious, 10):.3f}; {dt * 1e3:.1f} ms per image (template method)")
    fit = synth.generate("synth-faces", args.train, seed=args.seed + 1)
    t = time.perf_counter()
    model = partlabels.train_segmenter(fit["images"], fit["masks"] > 127, epochs=args.epochs, min_steps=0)
    t_fit = time.perf_counter() - t
    pred = partlabels.predict(model, data["images"])
    seg = partlabels.ious(pred, truth)
    print(f"segmentation network ({args.train} training images, {args.epochs} epochs, {t_fit:.0f} s): IoU mean "
          f"{seg.mean():.3f}, median {np.median(seg):.3f}, 10th percentile {np.percentile(seg, 10):.3f}")


if __name__ == "__main__":
    main()
