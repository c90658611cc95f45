"""Stage ``figure4``: attribute progression (paper Figure 4) for one dataset.

y_a = (1 - a) * y_from + a * y_to along one attribute (or a pair, e.g. black to blond hair),
with z fixed, for each group the dataset has names for. z comes from ``figures.seed``.
"""

from __future__ import annotations

import torch

from attr2img.data.loader import ProcessedDataset
from attr2img.figures.common import finish, generation_stage, plt, show
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


def draw(data_dir, model_dir, out, seed: int = 0, steps: int = 7) -> None:
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
            show(axes[r, c], imgs[c], f"α = {c / (steps - 1):.2f}" if r == 0 else None)
        axes[r, 0].set_ylabel(label.replace(": ", ":\n"), fontsize=7)
    finish(fig, out, f"Figure 4: attribute progression with z fixed ({card['model']}, {card['dataset']})")
    return axes.shape


add_arguments, main = generation_stage(draw, "discvae")
