"""Generating images from attributes with a trained model: the Python API behind ``attr2img sample``.

>>> from attr2img.generate import AttributeGenerator
>>> g = AttributeGenerator("models/synth-faces/cvae")
>>> y = g.attribute_vector({"Smiling": 2.0, "Male": -1.0})         # on top of the training mean
>>> images = g.generate(y, n=8, seed=0)                               # (8, 3, 64, 64) in [-1, 1]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from attr2img.data.fmt import load_split
from attr2img.device import resolve_device
from attr2img.catalog import GENERATORS
from attr2img.errors import AttributeInputError, ModelError, UsageError
from attr2img.images import to_display
from attr2img.models.store import load_model


class AttributeGenerator:
    """A trained generator and its attribute vocabulary; ``device`` is auto (CUDA when present), cpu or cuda."""

    def __init__(self, model_dir, device: str | torch.device = "cpu"):
        self.device = resolve_device(device)
        self.model, self.card = load_model(model_dir, self.device)
        if self.card["model"] not in GENERATORS:
            raise ModelError(f"{model_dir} holds a {self.card['model']}, not a generator ({', '.join(GENERATORS)})")
        self.attribute_names = list(self.card["attribute_names"])
        if "attribute_mean" not in self.card:
            raise ModelError(f"{model_dir}/card.json has no training attribute mean (made by an older version); "
                             f"retrain the model")
        self.attribute_mean = np.asarray(self.card["attribute_mean"], np.float32)

    def _names_hint(self) -> str:
        return "valid attribute names: " + ", ".join(self.attribute_names)

    def check_vector(self, y) -> torch.Tensor:
        """(A,) or (B, A) array-like -> float32 (B, A) tensor; the length must be the model's."""
        y = torch.as_tensor(np.asarray(y, dtype=np.float32))
        given = tuple(y.shape)
        if y.ndim == 1:
            y = y[None]
        if y.ndim != 2 or y.shape[1] != len(self.attribute_names):
            raise AttributeInputError(f"attribute vector has shape {given}, expected "
                                      f"({len(self.attribute_names)},) or (B, {len(self.attribute_names)}); "
                                      + self._names_hint())
        if not torch.isfinite(y).all():
            raise AttributeInputError("attribute vector contains NaN or infinite values")
        return y

    def attribute_vector(self, assignments: dict[str, float], base=None) -> np.ndarray:
        """``base`` (default: the training mean, as ``attr2img sample``) with the named attributes set;
        unknown names are refused."""
        unknown = [k for k in assignments if k not in self.attribute_names]
        if unknown:
            raise AttributeInputError(f"unknown attribute(s) {', '.join(map(repr, unknown))}; " + self._names_hint())
        y = self.attribute_mean.copy() if base is None else self.check_vector(base)[0].numpy().copy()
        for name, value in assignments.items():
            y[self.attribute_names.index(name)] = float(value)
        return y

    @torch.no_grad()
    def generate(self, y, n: int = 1, seed: int = 0) -> torch.Tensor:
        """``n`` samples for each attribute vector: (B * n, 3, 64, 64) in [-1, 1], grouped by vector."""
        y = self.check_vector(y).to(self.device)
        return self.model.generate(y, n=n, generator=torch.Generator().manual_seed(seed)).float().cpu()


def base_vector(g: AttributeGenerator, data_dir, base: str) -> tuple[np.ndarray, str]:
    """``mean`` (the training mean, from the model card) or ``test:K`` (the K-th test example of
    ``data_dir``); returns (vector, label)."""
    if base == "mean":
        return g.attribute_mean, "training mean"
    if base.startswith("test:"):
        if data_dir is None:
            raise UsageError(f"--base {base}: give the model's processed dataset with --data")
        test = load_split(data_dir, "test")
        try:
            k = int(base.split(":", 1)[1])
            return test.attributes[k], f"test example {test.ids[k]}"
        except (ValueError, IndexError):
            raise AttributeInputError(f"--base {base!r}: expected test:K with 0 <= K < {len(test)}") from None
    raise AttributeInputError(f"--base {base!r}: expected 'mean' or 'test:K'")


def parse_assignments(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise AttributeInputError(f"--set {item!r}: expected NAME=NUMBER, e.g. --set Smiling=2") from None
    return out


def load_vector_file(path) -> np.ndarray:
    """A .npy array, or a text file of numbers (whitespace or comma separated)."""
    path = Path(path)
    try:
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False).astype(np.float32)
        return np.array(path.read_text().replace(",", " ").split(), dtype=np.float32)
    except (OSError, ValueError) as exc:
        raise AttributeInputError(f"cannot read attribute vector from {path}: {exc}") from None


def sample_grid(model_dir, data_dir, out, assignments: list[str], vector_file=None, base: str = "mean",
                n: int = 8, seed: int = 0, device: str = "cpu") -> None:
    """Write a PNG grid of ``n`` samples for one attribute assignment."""
    from attr2img.figures.common import plt, save_png

    g = AttributeGenerator(model_dir, device)
    if vector_file is not None:
        y, label = g.check_vector(load_vector_file(vector_file))[0].numpy(), f"vector {Path(vector_file).name}"
    else:
        y, label = base_vector(g, data_dir, base)
    y = g.attribute_vector(parse_assignments(assignments), base=y)
    images = to_display(g.generate(y, n=n, seed=seed))
    cols = min(n, 8)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.3 * rows + 0.6), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < n:
            ax.imshow(images[i], interpolation="nearest")
    what = ", ".join(assignments) if assignments else "no changes"
    fig.suptitle(f"{g.card['model']} on {g.card['dataset']}: {label}; {what}; seed {seed}", fontsize=8)
    save_png(fig, out)


# -- the sample command ---------------------------------------------------------------------------
PARAMS = False      # a tool over a trained model: everything it needs is in the model folder and the options


def add_arguments(p) -> None:
    p.description = ("draw an image grid for an attribute assignment, e.g. --set Smiling=2 --set Male=-1 on top "
                     "of the training mean")
    p.add_argument("--model", required=True, help="trained model directory, e.g. models/synth-faces/cvae")
    p.add_argument("--data", help="its processed dataset (needed for --base test:K)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="set one attribute (repeatable)")
    p.add_argument("--vector", help="a full attribute vector (.npy or text) instead of --base")
    p.add_argument("--base", default="mean", help="'mean' (training mean, default) or 'test:K'")
    p.add_argument("-n", type=int, default=8, help="number of samples (default 8)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="default: cpu")
    p.add_argument("--out", required=True, help="output PNG")


def main(args, params=None) -> None:
    sample_grid(args.model, args.data, args.out, args.set, vector_file=args.vector, base=args.base,
                n=args.n, seed=args.seed, device=args.device or "cpu")
    print(f"wrote {args.out}")
