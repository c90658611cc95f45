"""Stage ``figure4``: attribute progression (paper Figure 4) for one dataset.

y_a = (1 - a) * y_from + a * y_to along one attribute (or a pair, e.g. black to blond hair),
with z fixed, for each progression of :mod:`attr2img.edits` the dataset has names for. z comes
from ``figures.seed``.
"""

from __future__ import annotations

import torch

from attr2img.data.loader import ProcessedDataset
from attr2img.edits import base_vector, progression_vectors, progressions_for, training_ranges
from attr2img.figures.common import finish, generation_stage, plt, show
from attr2img.models.store import load_model

PANEL = 1.6     # inches per 64x64 panel at 100 dpi: 160 px


def draw(data_dir, model_dir, out, seed: int = 0, steps: int = 7) -> None:
    model, card = load_model(model_dir)
    train = ProcessedDataset(data_dir, "train")
    names = train.attribute_names
    lo, hi, _ = training_ranges(train.attributes)
    base = base_vector(train.attributes, train.attribute_kind)
    rows = progressions_for(names)
    z = torch.randn(1, model.latent_dim, generator=torch.Generator().manual_seed(seed))
    fig, axes = plt.subplots(len(rows), steps, figsize=(PANEL * steps + 1.6, (PANEL + 0.1) * len(rows) + 0.6),
                             squeeze=False)
    for r, (label, spec) in enumerate(rows):
        ys = progression_vectors(base, names, spec, lo, hi, steps)
        with torch.no_grad():
            imgs = model.decode(z.expand(steps, -1), ys)
        for c in range(steps):
            show(axes[r, c], imgs[c], f"α = {c / (steps - 1):.2f}" if r == 0 else None)
        axes[r, 0].set_ylabel(label.replace(": ", ":\n"), fontsize=9)
    finish(fig, out, f"Figure 4: attribute progression with z fixed ({card['model']}, {card['dataset']})")
    return axes.shape


add_arguments, main = generation_stage(draw, "discvae")
