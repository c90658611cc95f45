"""Reading real photographs robustly: bad files are counted, never fatal.

Pillow decodes the file and converts it to RGB through a real colour conversion (CMYK and
YCCK JPEGs, palette and grayscale images, alpha dropped); keeping the first three of four
channels would read a CMYK photograph as its inverse. 16-bit grayscale is scaled to 8 bits.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

MODE_NAMES = {"L": "grayscale", "LA": "grayscale with alpha", "1": "black and white", "P": "palette",
              "PA": "palette with alpha", "CMYK": "CMYK", "YCbCr": "YCbCr", "RGBA": "RGBA", "RGBX": "RGBX",
              "I;16": "16-bit grayscale", "I;16B": "16-bit grayscale", "I;16L": "16-bit grayscale",
              "I": "32-bit grayscale", "F": "floating-point grayscale"}


def load_rgb(path: Path, counts: Counter) -> np.ndarray | None:
    """The image as uint8 RGB (H, W, 3), or None (counted) when it cannot be read."""
    try:
        with Image.open(path) as im:
            im.load()                               # decode now: a truncated file fails here
            mode = im.mode
            if mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(im, dtype=np.float64)
                arr = np.round(arr * (255.0 / (65535.0 if arr.max() > 255 else 255.0))).clip(0, 255).astype(np.uint8)
                img = np.stack([arr] * 3, -1)
            else:
                img = np.asarray(im.convert("RGB"))
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        counts["skipped: unreadable image"] += 1
        return None
    if mode != "RGB":
        counts[f"converted: {MODE_NAMES.get(mode, mode)} to RGB"] += 1
    if min(img.shape[:2]) < 2:
        counts["skipped: unreadable image"] += 1
        return None
    return np.ascontiguousarray(img, dtype=np.uint8)
