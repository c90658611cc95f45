"""Stages ``figure3``, ``figure4`` and ``figure5``: the paper's generation figures for one dataset.

Figure 3, attribute-conditioned generation: for test attribute descriptions, the description
in words, the nearest training image by attribute MSE, CVAE samples, disCVAE foregrounds,
disCVAE images, and the reference test image.
Figure 4, attribute progression: y_a = (1 - a) * y_from + a * y_to along one attribute (or a
pair, e.g. black to blond hair), with z fixed, for each group the dataset has names for.
Figure 5, disentangling with the disCVAE: vary z_B (z_F, y fixed), vary z_F (z_B, y fixed),
vary y (z fixed); each shown as image, background x_B and gate g.
All randomness comes from ``figures.seed``; reruns on the same machine give the same bytes.
"""

from __future__ import annotations

import numpy as np
import torch

from attr2img.data.loader import ProcessedDataset, to_model_space
from attr2img.figures.common import describe_attributes, plt, save_png
from attr2img.models.store import load_model

# Figure 4 rows: (label, {attribute: (from, to)}) with "min"/"max" over the training set or numbers.
PROGRESSIONS = [
    ("gender: female → male", {"Male": ("min", "max")}),
    ("age: young → senior", {"Youth": ("max", "min"), "Senior": ("min", "max")}),
    ("expression: frowning → smiling", {"Frowning": ("max", "min"), "Smiling": ("min", "max")}),
    ("eyewear: none → eyeglasses", {"Eyeglasses": ("min", "max")}),
    ("hair colour: black → blond", {"Black Hair": ("max", "min"), "Blond Hair": ("min", "max")}),
    ("primary colour: blue → yellow", {"has_primary_color::blue": (1.0, 0.0), "has_primary_color::yellow": (0.0, 1.0)}),
    ("primary colour: red → black", {"has_primary_color::red": (1.0, 0.0), "has_primary_color::black": (0.0, 1.0)}),
    ("wing pattern: solid → striped", {"has_wing_pattern::solid": (1.0, 0.0), "has_wing_pattern::striped": (0.0, 1.0)}),
]


def _img(t: torch.Tensor) -> np.ndarray:
    return ((t.detach().float().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).cpu().numpy()


def _show(ax, t=None, title=None):
    if t is not None:
        ax.imshow(_img(t), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(t is not None)
    if title:
        ax.set_title(title, fontsize=7)


def _pick(n_total: int, k: int, seed: int) -> np.ndarray:
    """``k`` sorted indices below ``n_total``, distinct unless the split holds fewer than ``k``."""
    return np.sort(np.random.default_rng(seed).choice(n_total, size=k, replace=n_total < k))


def figure3(data_dir, cvae_dir, discvae_dir, out, seed: int = 0, n_rows: int = 2, n_samples: int = 3) -> None:
    cvae, _ = load_model(cvae_dir)
    dis, _ = load_model(discvae_dir)
    test, train = ProcessedDataset(data_dir, "test"), ProcessedDataset(data_dir, "train")
    idx = _pick(len(test), n_rows, seed)
    cols = ["description", "nearest neighbour"] + [f"CVAE {i + 1}" for i in range(n_samples)] + \
           [f"disCVAE fg {i + 1}" for i in range(n_samples)] + [f"disCVAE {i + 1}" for i in range(n_samples)] + ["reference"]
    fig, axes = plt.subplots(len(idx), len(cols), figsize=(1.05 * len(cols) + 0.6, 1.25 * len(idx) + 0.5), squeeze=False)
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
            _show(axes[r, c], t, cols[c] if r == 0 else None)
        words = describe_attributes(test.attributes[i].numpy(), test.attribute_names, test.attribute_kind, k=4)
        axes[r, 0].text(0.0, 0.5, "\n".join(words), fontsize=6, va="center", ha="left", transform=axes[r, 0].transAxes)
    fig.suptitle(f"Figure 3: attribute-conditioned generation ({test.card['name']})", fontsize=9)
    fig.tight_layout()
    save_png(fig, out)
    return axes.shape


def progression_vectors(base: torch.Tensor, names: list[str], spec: dict, lo: torch.Tensor, hi: torch.Tensor,
                        steps: int) -> torch.Tensor:
    """(steps, A): base with the attributes of ``spec`` moved linearly from their 'from' to 'to' values."""
    ends = []
    for which in (0, 1):
        y = base.clone()
        for name, pair in spec.items():
            j = names.index(name)
            v = pair[which]
            y[j] = lo[j] if v == "min" else hi[j] if v == "max" else float(v)
        ends.append(y)
    a = torch.linspace(0, 1, steps)[:, None]
    return (1 - a) * ends[0][None] + a * ends[1][None]


def figure4(data_dir, model_dir, out, seed: int = 0, steps: int = 7) -> None:
    model, card = load_model(model_dir)
    train = ProcessedDataset(data_dir, "train")
    names = train.attribute_names
    lo, hi = train.attributes.min(0).values, train.attributes.max(0).values
    base = train.attributes.median(0).values if train.attribute_kind == "continuous" else \
        (train.attributes.mean(0) > 0.5).float()
    rows = [(label, spec) for label, spec in PROGRESSIONS if all(n in names for n in spec)]
    if not rows:
        raise ValueError(f"no attribute progression is defined for the attributes of {card['dataset']}")
    z = torch.randn(1, model.latent_dim, generator=torch.Generator().manual_seed(seed))
    fig, axes = plt.subplots(len(rows), steps, figsize=(1.05 * steps + 1.6, 1.15 * len(rows) + 0.5), squeeze=False)
    for r, (label, spec) in enumerate(rows):
        ys = progression_vectors(base, names, spec, lo, hi, steps)
        with torch.no_grad():
            imgs = model.decode(z.expand(steps, -1), ys)
        for c in range(steps):
            _show(axes[r, c], imgs[c], f"α = {c / (steps - 1):.2f}" if r == 0 else None)
        axes[r, 0].set_ylabel(label.replace(": ", ":\n"), fontsize=7)
    fig.suptitle(f"Figure 4: attribute progression with z fixed ({card['model']}, {card['dataset']})", fontsize=9)
    fig.tight_layout()
    save_png(fig, out)
    return axes.shape


def figure5(data_dir, discvae_dir, out, seed: int = 0, n: int = 6) -> None:
    model, card = load_model(discvae_dir)
    test = ProcessedDataset(data_dir, "test")
    zf_dim, zb_dim = model.cfg.zf_dim, model.cfg.zb_dim
    g = torch.Generator().manual_seed(seed)
    zf0, zb0 = torch.randn(1, zf_dim, generator=g), torch.randn(1, zb_dim, generator=g)
    y0 = test.attributes[_pick(len(test), 1, seed)]
    ys = test.attributes[_pick(len(test), n, seed + 1)]
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
        out_layers["gate"] = out_layers["gate"] * 2 - 1
        for k, (row_name, key) in enumerate(rows):
            r = b * len(rows) + k
            for c in range(n):
                _show(axes[r, c], out_layers[key][c])
            axes[r, 0].set_ylabel(row_name, fontsize=6)
        axes[b * len(rows), 0].set_title(title, fontsize=8, loc="left", pad=3)
    fig.suptitle(f"Figure 5: disentangling foreground and background ({card['dataset']})", fontsize=9)
    fig.tight_layout()
    save_png(fig, out)
    return axes.shape
