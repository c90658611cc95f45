"""Shared figure plumbing: a headless backend and reproducible PNG output."""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from attr2img.atomic import atomic_path  # noqa: E402

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
