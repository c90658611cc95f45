"""Stage ``figure3``: attribute-conditioned generation (paper Figure 3) for one dataset.

For test attribute descriptions: the description in words, the nearest training image by
attribute MSE, CVAE samples, disCVAE foregrounds, disCVAE images, and the reference test image.
All randomness comes from ``figures.seed``.
"""

from __future__ import annotations

import torch

from attr2img.data.loader import ProcessedDataset
from attr2img.figures.common import describe_attributes, finish, generation_stage, pick, plt, show
from attr2img.models.store import load_model
from attr2img.images import to_model_space


PANEL = 1.7     # inches per 64x64 panel at 100 dpi: 170 px, large enough to see eyes and glasses


def draw(data_dir, cvae_dir, discvae_dir, out, seed: int = 0, n_rows: int = 3, n_samples: int = 2) -> None:
    cvae, _ = load_model(cvae_dir)
    dis, _ = load_model(discvae_dir)
    test, train = ProcessedDataset(data_dir, "test"), ProcessedDataset(data_dir, "train")
    idx = pick(len(test), n_rows, seed)
    cols = ["description", "nearest neighbour"] + [f"CVAE {i + 1}" for i in range(n_samples)] + \
           [f"disCVAE fg {i + 1}" for i in range(n_samples)] + [f"disCVAE {i + 1}" for i in range(n_samples)] + ["reference"]
    fig, axes = plt.subplots(len(idx), len(cols), figsize=(PANEL * len(cols) + 0.6, (PANEL + 0.2) * len(idx) + 0.5),
                             squeeze=False)
    for r, i in enumerate(idx):
        y = test.attributes[i:i + 1]
        nn_i = int(((train.attributes - y) ** 2).mean(1).argmin())
        x_nn, _ = to_model_space(train.images[nn_i:nn_i + 1], train.masks[nn_i:nn_i + 1])
        x_ref, _ = to_model_space(test.images[i:i + 1], test.masks[i:i + 1])
        g = torch.Generator().manual_seed(seed + r)
        samples = cvae.generate(y, n=n_samples, generator=g)
        layers = dis.generate(y, n=n_samples, generator=torch.Generator().manual_seed(seed + r), layers=True)
        panels = [None, x_nn[0]] + list(samples) + list(layers["x_fg"]) + list(layers["x"]) + [x_ref[0]]
        for c, t in enumerate(panels):
            show(axes[r, c], t, cols[c] if r == 0 else None)
        words = describe_attributes(test.attributes[i].numpy(), test.attribute_names, test.attribute_kind, k=4)
        axes[r, 0].text(0.0, 0.5, "\n".join(words), fontsize=8, va="center", ha="left", transform=axes[r, 0].transAxes)
    finish(fig, out, f"Figure 3: attribute-conditioned generation ({test.card['name']})")
    return axes.shape


add_arguments, main = generation_stage(draw, "cvae", "discvae")
