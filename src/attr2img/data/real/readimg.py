"""Reading real photographs robustly: bad files are counted, never fatal."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from skimage import io as skio


def load_rgb(path: Path, counts: Counter) -> np.ndarray | None:
    """The image as uint8 RGB, or None (counted) when it cannot be read."""
    try:
        img = skio.imread(path)
    except Exception:                               # truncated/corrupt files raise many types
        counts["skipped: unreadable image"] += 1
        return None
    if img.ndim == 2:
        counts["converted: grayscale to RGB"] += 1
        img = np.stack([img] * 3, -1)
    elif img.ndim == 3 and img.shape[-1] == 4:
        counts["converted: 4 channels to RGB"] += 1
        img = img[..., :3]
    if img.ndim != 3 or img.shape[-1] != 3 or min(img.shape[:2]) < 2:
        counts["skipped: unreadable image"] += 1
        return None
    return img.astype(np.uint8) if img.dtype != np.uint8 else img
