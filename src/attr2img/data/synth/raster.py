"""Vectorised, anti-aliased rasterisation of simple shapes for a whole batch at once.

Coordinates are normalised: x and y run over [-1, 1] across the canvas, y pointing down.
Every shape parameter is an array of shape (N,), one value per image, and every function
returns per-pixel coverage (alpha) of shape (N, H, W) in [0, 1]. Nothing loops over images.
"""

from __future__ import annotations

import numpy as np


def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates, each of shape (1, size, size)."""
    c = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
    return c[None, :, None].repeat(size, 2), c[None, None, :].repeat(size, 1)  # y, x


def _c(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)[:, None, None]


def frame(y, x, cx, cy, theta=None, mirror=None):
    """Coordinates (u, v) in a per-image frame centred at (cx, cy), rotated by theta,
    optionally mirrored along u (mirror = +1 or -1)."""
    dx, dy = x - _c(cx), y - _c(cy)
    if theta is None:
        u, v = dx, dy
    else:
        c, s = _c(np.cos(theta)), _c(np.sin(theta))
        u, v = c * dx + s * dy, -s * dx + c * dy
    if mirror is not None:
        u = u * _c(mirror)
    return u, v


def soft(sdf: np.ndarray, px: float) -> np.ndarray:
    """Coverage from a signed distance (negative inside), anti-aliased over one pixel."""
    return np.clip(0.5 - sdf / px, 0.0, 1.0)


def ellipse(u, v, cu, cv, ru, rv, px: float) -> np.ndarray:
    """Coverage of the axis-aligned ellipse centred (cu, cv) with radii (ru, rv) in the (u, v) frame."""
    ru, rv = _c(ru), _c(rv)
    d = np.sqrt(((u - _c(cu)) / ru) ** 2 + ((v - _c(cv)) / rv) ** 2)
    return soft((d - 1.0) * np.minimum(ru, rv), px)


def band(u, v, center_v, half_width_u, thickness, px: float) -> np.ndarray:
    """Coverage of a horizontal band |v - center_v| < thickness/2 limited to |u| < half_width_u.
    ``center_v`` may itself be a per-pixel array (a curved band)."""
    inside_v = np.abs(v - center_v) - _c(thickness) / 2
    inside_u = np.abs(u) - _c(half_width_u)
    return soft(np.maximum(inside_v, inside_u), px)


def over(canvas: np.ndarray, alpha: np.ndarray, color) -> np.ndarray:
    """Paint ``color`` ((N, 3) or per-pixel (N, 3, H, W)) over ``canvas`` (N, 3, H, W) with coverage
    alpha, in place; returns ``canvas``. Channels-first keeps the inner loops long and fast."""
    color = np.asarray(color, dtype=np.float32)
    if color.ndim == 2:
        color = color[:, :, None, None]
    canvas += alpha[:, None].astype(np.float32, copy=False) * (color - canvas)
    return canvas
