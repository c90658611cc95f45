"""Natural-image backgrounds cropped from the photographs that ship inside scikit-image.

No download is involved: only images stored in the scikit-image wheel are used. Each
synthetic image gets a random crop (position, size, flip, colour gain) of one of them.
"""

from __future__ import annotations

import functools

import numpy as np

# Photographs and textures bundled with scikit-image (none needs a download). Images with
# faces or birds in them are left out so that backgrounds never contain a foreground object.
SOURCES = ("coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry",
           "brick", "grass", "gravel", "camera", "coins", "moon", "colorwheel", "page", "text")
BANK_SIZE = 96


@functools.lru_cache(maxsize=1)
def bank() -> np.ndarray:
    """All sources as float32 RGB in [0, 1], centre-cropped square and resized: (S, 96, 96, 3)."""
    from skimage import data as skdata
    from skimage.color import gray2rgb
    from skimage.transform import resize

    out = []
    for name in SOURCES:
        img = getattr(skdata, name)()
        img = img.astype(np.float32) / (255.0 if img.dtype == np.uint8 else max(float(img.max()), 1.0))
        if img.ndim == 2:
            img = gray2rgb(img)
        img = img[..., :3]
        h, w = img.shape[:2]
        s = min(h, w)
        img = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        out.append(resize(img, (BANK_SIZE, BANK_SIZE), anti_aliasing=True, order=1).astype(np.float32))
    return np.stack(out)


def draw(rng: np.random.Generator, n: int) -> dict:
    """Draw the nuisance factors of ``n`` background crops: source, size, position, flip, gain."""
    side = rng.uniform(0.45, 1.0, n) * (BANK_SIZE - 1)
    return {
        "bg_source": rng.integers(0, len(SOURCES), n),
        "bg_side": side,
        "bg_y0": rng.uniform(0, 1, n) * (BANK_SIZE - 1 - side),
        "bg_x0": rng.uniform(0, 1, n) * (BANK_SIZE - 1 - side),
        "bg_flip": rng.random(n) < 0.5,
        "bg_gain": rng.uniform(0.6, 1.2, (n, 3)).astype(np.float32),
    }


def render(f: dict, size: int) -> np.ndarray:
    """Render the crops drawn by :func:`draw` at ``size`` x ``size``: float32 (N, 3, size, size)."""
    b = bank()
    side, y0, x0 = f["bg_side"][:, None], f["bg_y0"][:, None], f["bg_x0"][:, None]
    t = ((np.arange(size, dtype=np.float64) + 0.5) / size)[None]
    ys = y0 + side * t
    xs = np.where(f["bg_flip"][:, None], x0 + side * (1 - t), x0 + side * t)
    # Bilinear sampling, gathered for the whole batch at once.
    yi, xi = np.floor(ys).astype(np.int64), np.floor(xs).astype(np.int64)
    yi1, xi1 = np.minimum(yi + 1, BANK_SIZE - 1), np.minimum(xi + 1, BANK_SIZE - 1)
    wy = (ys - yi).astype(np.float32)[:, :, None, None]
    wx = (xs - xi).astype(np.float32)[:, None, :, None]
    s = f["bg_source"][:, None, None]

    def g(yy, xx):
        return b[s, yy[:, :, None], xx[:, None, :]]

    img = (g(yi, xi) * (1 - wx) + g(yi, xi1) * wx) * (1 - wy) + (g(yi1, xi) * (1 - wx) + g(yi1, xi1) * wx) * wy
    img = np.clip(img * f["bg_gain"][:, None, None, :], 0.0, 1.0).astype(np.float32)
    return np.ascontiguousarray(img.transpose(0, 3, 1, 2))
