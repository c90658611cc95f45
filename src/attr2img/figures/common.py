"""Shared figure plumbing: a headless backend, reproducible PNG output, image panels.

Figures are drawn from fixed seeds; their bytes are the same on a rerun with the same
machine and library versions (``pin_threads`` removes the dependence on the core count).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from attr2img.atomic import atomic_path  # noqa: E402
from attr2img.config import from_mapping  # noqa: E402
from attr2img.images import to_display  # noqa: E402

# Fixed DPI and no software/version metadata, so reruns give identical bytes.
DPI = 100
plt.rcParams.update({"font.size": 8, "svg.hashsalt": "attr2img", "path.simplify": True})


def save_png(fig, dest) -> None:
    with atomic_path(dest) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)


def describe_attributes(values, names, kind: str, k: int = 3) -> list[str]:
    """The strongest attributes of one vector, in words: top-k scores, or the present labels."""
    if kind == "binary":
        present = [names[i] for i in range(len(names)) if values[i] > 0.5]
        words = [n.replace("has_", "").replace("::", ": ").replace("_", " ") for n in present][:6]
        return [line for w in words for line in textwrap.wrap(w, 24, subsequent_indent="  ")]
    order = sorted(range(len(names)), key=lambda i: -float(values[i]))[:k]
    return [f"{names[i]} {float(values[i]):+.1f}" for i in order]


def pin_threads() -> None:
    """One CPU thread for the figures' network passes: the same bytes on any number of cores."""
    import torch

    torch.set_num_threads(1)


def show(ax, image=None, title=None) -> None:
    """One panel: a model-space CHW tensor or a uint8/float HWC array (or an empty frame)."""
    if image is not None:
        ax.imshow(image if isinstance(image, np.ndarray) else to_display(image), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(image is not None)
    if title:
        ax.set_title(title, fontsize=7)


def pick(n_total: int, k: int, seed: int) -> np.ndarray:
    """``k`` sorted indices below ``n_total``, distinct unless the split holds fewer than ``k``."""
    return np.sort(np.random.default_rng(seed).choice(n_total, size=k, replace=n_total < k))


def finish(fig, out, title: str):
    """Title, tight layout and the PNG; returns nothing (the caller returns its grid's shape)."""
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_png(fig, out)


def generation_stage(draw, *models: str):
    """``add_arguments`` and ``main`` of a figure stage that draws from trained ``models``:
    ``draw(data_dir, *model_dirs, out, seed=figures.seed)``."""

    def add_arguments(p) -> None:
        p.add_argument("--dataset", required=True)
        p.add_argument("--data", required=True, help="processed dataset directory")
        for name in models:
            p.add_argument(f"--{name}", required=True, help=f"trained {name} folder, e.g. models/synth-faces/{name}")
        p.add_argument("--out", required=True, help="output PNG")

    def main(args, params: dict) -> None:
        pin_threads()
        seed = from_mapping(FiguresConfig, params["figures"]).seed
        draw(args.data, *(getattr(args, name) for name in models), args.out, seed=seed)
        print(f"wrote {args.out}")

    return add_arguments, main


@dataclass(frozen=True)
class FiguresConfig:
    """params.yaml ``figures``: the seed of Figures 3 to 5 and the overview's settings."""

    seed: int
    overview: "OverviewConfig"


@dataclass(frozen=True)
class OverviewConfig:
    n_examples: int
    seed: int
