"""Stage ``figure5``: disentangling foreground and background with the disCVAE (paper Figure 5).

Vary z_B (z_F, y fixed), vary z_F (z_B, y fixed), vary y (z fixed); each shown as image,
background x_B and gate g. All randomness comes from ``figures.seed``.
"""

from __future__ import annotations

import torch

from attr2img.data.loader import ProcessedDataset
from attr2img.figures.common import finish, generation_stage, pick, plt, show
from attr2img.images import signed
from attr2img.models.store import load_model


def draw(data_dir, discvae_dir, out, seed: int = 0, n: int = 6) -> None:
    model, card = load_model(discvae_dir)
    test = ProcessedDataset(data_dir, "test")
    zf_dim, zb_dim = model.cfg.latent.z_fg, model.cfg.latent.z_bg
    g = torch.Generator().manual_seed(seed)
    zf0, zb0 = torch.randn(1, zf_dim, generator=g), torch.randn(1, zb_dim, generator=g)
    y0 = test.attributes[pick(len(test), 1, seed)]
    ys = test.attributes[pick(len(test), n, seed + 1)]
    blocks = [
        ("vary z_B (z_F, y fixed)", zf0.expand(n, -1), torch.randn(n, zb_dim, generator=g), y0.expand(n, -1)),
        ("vary z_F (z_B, y fixed)", torch.randn(n, zf_dim, generator=g), zb0.expand(n, -1), y0.expand(n, -1)),
        ("vary y (z_F, z_B fixed)", zf0.expand(n, -1), zb0.expand(n, -1), ys),
    ]
    rows = [("image", "x"), ("background x_B", "x_bg"), ("gate g", "gate")]
    fig, axes = plt.subplots(3 * len(rows), n, figsize=(1.0 * n + 1.6, 0.95 * 3 * len(rows) + 0.8), squeeze=False)
    for b, (title, zf, zb, y) in enumerate(blocks):
        with torch.no_grad():
            out_layers = model.decode_layers(zf, zb, y)
        out_layers["gate"] = signed(out_layers["gate"])
        for k, (row_name, key) in enumerate(rows):
            r = b * len(rows) + k
            for c in range(n):
                show(axes[r, c], out_layers[key][c])
            axes[r, 0].set_ylabel(row_name, fontsize=6)
        axes[b * len(rows), 0].set_title(title, fontsize=8, loc="left", pad=3)
    finish(fig, out, f"Figure 5: disentangling foreground and background ({card['dataset']})")
    return axes.shape


add_arguments, main = generation_stage(draw, "discvae")
