"""Stage ``occluders``: a picture of the completion occluders of one dataset on test images."""

from __future__ import annotations

import numpy as np

from attr2img.data.loader import ProcessedDataset
from attr2img.figures.common import plt, save_png
from attr2img.inference.occluders import occlude, occluder_masks


def run(data_dir, out, occluders, seed: int = 0, n: int = 4) -> None:
    test = ProcessedDataset(data_dir, "test").head(n)
    n = len(test)                                   # a test split may hold fewer than n images
    x, _, _ = next(test.batches(n))
    fig, axes = plt.subplots(len(occluders), n, figsize=(1.3 * n + 0.9, 1.35 * len(occluders) + 0.4), squeeze=False)
    for r, name in enumerate(occluders):
        occ = occluder_masks(name, len(x), x.shape[-1], seed)
        shown = ((occlude(x, occ) + 1) / 2).permute(0, 2, 3, 1).numpy()
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(np.clip(shown[c], 0, 1), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        frac = float(occ[0].mean())
        axes[r, 0].set_ylabel(f"{name.replace('_', ' ')}\n({frac:.0%} of pixels)", fontsize=7)
    fig.suptitle(f"{test.card['name']}: completion occluders (occluded pixels set to 0)", fontsize=8)
    fig.tight_layout()
    save_png(fig, out)
