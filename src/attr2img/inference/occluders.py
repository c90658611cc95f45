"""Completion occluders (paper section 5): which pixels are hidden from the energy.

Faces: ``eyes``, ``mouth``, ``face`` and ``right_half``, rectangles on the aligned face
template. For synth-faces the template is the generator's mean geometry (face centre
``synth_faces.MEAN_CX``, ``MEAN_CY``, scale ``MEAN_SCALE`` in normalised coordinates, eyes and
mouth at ``synth_faces.EYE_*`` and ``MOUTH_DY``); for LFW it will be the alignment template.
``right_half`` is the image's right half. Birds: ``block8`` and ``block16``, one square at a
random location per test image, drawn once from a fixed seed (the same for every model).
Occluded pixels are set to 0 on the [0, 1] scale (-1 in model space), as in the paper.

Masks are (N, 1, H, W) float tensors with 1 on occluded pixels.
"""

from __future__ import annotations

import numpy as np
import torch

from attr2img.data.synth import faces as synth_faces
from attr2img.errors import UsageError

FACE = ("eyes", "mouth", "face", "right_half")
BIRD = ("block8", "block16")
OCCLUDERS = (*FACE, *BIRD)
ALL = FACE + BIRD


def face_template_boxes() -> dict:
    """Occluder rectangles (u0, u1, v0, v1) in normalised coordinates ([-1, 1], y down)."""
    cx, cy, s = synth_faces.MEAN_CX, synth_faces.MEAN_CY, synth_faces.MEAN_SCALE
    ex, ey, my = synth_faces.EYE_DX, synth_faces.EYE_DY, synth_faces.MOUTH_DY
    return {
        "eyes": (cx - (ex + 0.12) * s, cx + (ex + 0.12) * s, cy + (ey - 0.09) * s, cy + (ey + 0.07) * s),
        "mouth": (cx - 0.19 * s, cx + 0.19 * s, cy + (my - 0.08) * s, cy + (my + 0.11) * s),
        "face": (cx - 0.30 * s, cx + 0.30 * s, cy - 0.30 * s, cy + 0.38 * s),
        "right_half": (0.0, 1.0, -1.0, 1.0),
    }


def _box_mask(box, size: int) -> np.ndarray:
    u0, u1, v0, v1 = box
    c = (np.arange(size) + 0.5) / size * 2 - 1
    return ((c[:, None] >= v0) & (c[:, None] < v1) & (c[None, :] >= u0) & (c[None, :] < u1)).astype(np.float32)


def occluder_masks(name: str, n: int, size: int = 64, seed: int = 0) -> torch.Tensor:
    """(n, 1, size, size) masks, 1 = occluded, for occluder ``name``."""
    if name not in OCCLUDERS:
        raise UsageError(f"unknown occluder {name!r}; choose one of {', '.join(OCCLUDERS)}")
    if name in FACE:
        m = _box_mask(face_template_boxes()[name], size)
        return torch.from_numpy(np.broadcast_to(m, (n, 1, size, size)).copy())
    if name in BIRD:
        k = int(name[len("block"):])
        rng = np.random.default_rng([seed, k])
        top, left = rng.integers(0, size - k + 1, n), rng.integers(0, size - k + 1, n)
        m = np.zeros((n, 1, size, size), np.float32)
        for i in range(n):
            m[i, 0, top[i]:top[i] + k, left[i]:left[i] + k] = 1
        return torch.from_numpy(m)
    raise ValueError(f"unknown occluder {name!r}; choose from {', '.join(ALL)}")


def occlude(x: torch.Tensor, occluded: torch.Tensor) -> torch.Tensor:
    """Set the occluded pixels of x (in [-1, 1]) to 0 on the [0, 1] scale."""
    return torch.where(occluded.bool().expand_as(x), torch.full_like(x, -1.0), x)
