"""The embedded synthetic datasets: one entry point over the generator modules.

A generator module defines NAME, SIZE, ATTRIBUTES, KIND, SEMANTIC (the factors the attributes
describe) and these functions: ``sample_factors(rng, n)`` (every random draw, made once for all
n images, so the result does not depend on chunking): ``sample_semantic(rng, n)``, then
``sample_nuisance(rng, semantic)`` (every other factor, given the semantic ones);
``clean_attributes(factors)`` (what the factors imply), ``attributes(rng, factors)`` (those
with the dataset's label noise) and ``render(factors)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attr2img.data.synth import birds, faces

DATASETS = {m.NAME: m for m in (faces, birds)}


@dataclass(frozen=True)
class SynthConfig:
    """params.yaml ``data.<synthetic dataset>``: the rendering seed and the split sizes."""

    seed: int
    n_train: int
    n_val: int
    n_test: int


def generate(name: str, n: int, seed: int, chunk: int = 64) -> dict:
    """Render ``n`` images of dataset ``name`` deterministically from ``seed``.

    Returns uint8 images (n, H, W, 3), uint8 masks (n, H, W) with 255 = foreground, float32
    attributes (n, A) with label noise, and the noise-free ``clean_attributes`` (n, A).
    """
    gen = DATASETS[name]
    rng = np.random.default_rng(seed)
    factors = float32(gen.sample_factors(rng, n))
    attrs = gen.attributes(rng, factors)
    images, masks = render(name, factors, chunk)
    return {"images": images, "masks": masks, "attributes": attrs, "clean_attributes": gen.clean_attributes(factors)}


def render(name: str, factors: dict, chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (n, H, W, 3) and masks (n, H, W; 255 = foreground) of the given factors,
    ``chunk`` images at a time."""
    gen = DATASETS[name]
    factors = float32(factors)
    n = len(factors[gen.SEMANTIC[0]])
    images = np.empty((n, gen.SIZE, gen.SIZE, 3), np.uint8)
    masks = np.empty((n, gen.SIZE, gen.SIZE), np.uint8)
    for start in range(0, n, chunk):
        sl = slice(start, min(n, start + chunk))
        img, fg = gen.render({k: v[sl] for k, v in factors.items()}, gen.SIZE)
        images[sl] = np.round(img.transpose(0, 2, 3, 1) * 255).astype(np.uint8)
        masks[sl] = np.where(fg >= 0.5, 255, 0).astype(np.uint8)
    return images, masks


def float32(factors: dict) -> dict:
    """The factors with every float array in float32, as the attributes and the renderer read
    them (float32 keeps rendering fast)."""
    return {k: v.astype(np.float32, copy=False) if v.dtype.kind == "f" else v for k, v in factors.items()}
