"""synth-birds: an embedded stand-in for CUB-200-2011 birds, rendered from a seed.

Each image is a bird (tail, body, wing, head with its crown, eye, beak) in side view over a
natural-image background. Attributes are sparse binary labels named after CUB's (one value per
group: primary colour, wing colour, crown colour, wing pattern, bill length, bill colour, size),
with CUB-like label noise. The crown and bill colours were added for issue 32: with five groups
over 3,600 training birds nearly every test bird had a training twin with the same labels,
which CUB's 28 groups do not allow (docs/fidelity.md, "The attribute regime against LFW's").

Not attributes (nuisance): position, pose angle, facing direction, scale jitter within a
size class, colour jitter, and the background crop.
"""

from __future__ import annotations

import numpy as np

from attr2img.data.synth import backgrounds
from attr2img.data.synth.raster import ellipse, frame, grid, over, soft

NAME = "synth-birds"
SIZE = 64
KIND = "binary"
COLORS = {"blue": (0.20, 0.35, 0.85), "brown": (0.50, 0.33, 0.18), "yellow": (0.95, 0.85, 0.15),
          "red": (0.85, 0.15, 0.12), "black": (0.09, 0.09, 0.10), "white": (0.95, 0.95, 0.93),
          "grey": (0.55, 0.55, 0.58)}
COLOR_NAMES = tuple(COLORS)
COLOR_RGB = np.array(list(COLORS.values()), np.float32)
PATTERNS = ("solid", "spotted", "striped")
BILLS = ("shorter_than_head", "about_the_same_as_head", "longer_than_head")
BILL_LENGTH = np.array([0.13, 0.30, 0.52], np.float32)      # head diameter is 0.34
SIZES = ("small_(5_-_9_in)", "medium_(9_-_16_in)", "large_(16_-_32_in)")
SIZE_SCALE = np.array([0.68, 0.84, 1.0], np.float32)
BILL_COLORS = {"black": (0.12, 0.11, 0.10), "orange": (0.95, 0.55, 0.10), "grey": (0.62, 0.62, 0.64)}
BILL_RGB = np.array(list(BILL_COLORS.values()), np.float32)
GROUPS = (("has_primary_color", COLOR_NAMES), ("has_wing_color", COLOR_NAMES), ("has_crown_color", COLOR_NAMES),
          ("has_wing_pattern", PATTERNS), ("has_bill_length", BILLS), ("has_bill_color", tuple(BILL_COLORS)),
          ("has_size", SIZES))
ATTRIBUTES = tuple(f"{group}::{value}" for group, values in GROUPS for value in values)
LABEL_NOISE = 0.02


# The factors the attributes describe; every other factor is a nuisance (sample_nuisance).
SEMANTIC = ("primary", "wing", "crown", "pattern", "bill", "bill_color", "size")


def sample_factors(rng: np.random.Generator, n: int) -> dict:
    """Draw the semantic factors, then the nuisance factors given them, for ``n`` birds."""
    f = sample_semantic(rng, n)
    f.update(sample_nuisance(rng, f))
    return f


def sample_semantic(rng: np.random.Generator, n: int) -> dict:
    """The factors the attributes describe (``SEMANTIC``) for ``n`` birds."""
    f = {}
    f["primary"] = rng.integers(0, len(COLOR_NAMES), n)
    same = rng.random(n) < 0.4                             # wings often share the body colour
    f["wing"] = np.where(same, f["primary"], rng.integers(0, len(COLOR_NAMES), n))
    same = rng.random(n) < 0.4                             # and so does the crown
    f["crown"] = np.where(same, f["primary"], rng.integers(0, len(COLOR_NAMES), n))
    f["pattern"] = rng.choice(len(PATTERNS), n, p=[0.5, 0.25, 0.25])
    f["bill"] = rng.integers(0, len(BILLS), n)
    f["bill_color"] = rng.integers(0, len(BILL_COLORS), n)
    f["size"] = rng.integers(0, len(SIZES), n)
    return f


def sample_nuisance(rng: np.random.Generator, semantic: dict) -> dict:
    """The nuisance factors of birds with the given semantic factors, drawn from their
    distribution given those (the scale jitters within the size class)."""
    f, n = {}, len(semantic["size"])
    f["scale"] = SIZE_SCALE[semantic["size"]] * rng.uniform(0.92, 1.08, n).astype(np.float32)
    f["cx"] = rng.uniform(-0.3, 0.3, n) * (1.1 - f["scale"])
    f["cy"] = rng.uniform(-0.25, 0.25, n) * (1.1 - f["scale"])
    f["theta"] = rng.uniform(-0.45, 0.45, n)
    f["mirror"] = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    f["jitter"] = rng.uniform(-0.06, 0.06, (n, 3, 3))
    f.update(backgrounds.draw(rng, n))
    return f


def clean_attributes(f: dict) -> np.ndarray:
    """The noise-free labels: one-hot per group (0/1 as float32)."""
    blocks = [np.eye(len(values), dtype=np.float32)[f[key]]
              for key, (_, values) in zip(SEMANTIC, GROUPS)]
    return np.concatenate(blocks, axis=1)


def attributes(rng: np.random.Generator, f: dict) -> np.ndarray:
    """The clean labels, each flipped with probability LABEL_NOISE (CUB's annotators disagree)."""
    labels = clean_attributes(f)
    flip = rng.random(labels.shape) < LABEL_NOISE
    return np.where(flip, 1.0 - labels, labels).astype(np.float32)


def render(f: dict, size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    n = len(f["primary"])
    px = 2.0 / size
    y, x = grid(size)
    S = f["scale"].astype(np.float32)
    u, v = frame(y, x, f["cx"], f["cy"], f["theta"], f["mirror"])
    body_rgb = np.clip(COLOR_RGB[f["primary"]] + f["jitter"][:, 0], 0, 1)
    wing_rgb = np.clip(COLOR_RGB[f["wing"]] + f["jitter"][:, 1], 0, 1)
    crown_rgb = np.clip(COLOR_RGB[f["crown"]] + f["jitter"][:, 2], 0, 1)
    img = backgrounds.render(f, size)

    tail = ellipse(u, v, -0.58 * S, 0.10 * S, 0.30 * S, 0.08 * S, px)
    body = ellipse(u, v, 0.0 * S, 0.0 * S, 0.42 * S, 0.26 * S, px)
    head = ellipse(u, v, 0.40 * S, -0.24 * S, 0.17 * S, 0.17 * S, px)
    # beak: a triangle from the front of the head, pointing forward
    L = BILL_LENGTH[f["bill"]] * S
    t = (u - (0.52 * S)[:, None, None]) / L[:, None, None]          # 0 at the base, 1 at the tip
    half = (0.055 * S)[:, None, None] * (1 - t)
    beak_sdf = np.maximum(np.maximum(np.abs(v + (0.24 * S)[:, None, None]) - half, -t * L[:, None, None]),
                          (t - 1) * L[:, None, None])
    beak = soft(beak_sdf, px)
    img = over(img, tail, wing_rgb * 0.85)
    img = over(img, body, body_rgb)
    img = over(img, head, body_rgb)
    crown = head * np.clip(((-0.22 * S)[:, None, None] - v) / px, 0, 1)   # the head above the eye line
    img = over(img, crown, crown_rgb)
    img = over(img, beak, BILL_RGB[f["bill_color"]])

    # wing with its pattern: stripes across it or spots on it
    wing = ellipse(u, v, -0.08 * S, -0.02 * S, 0.30 * S, 0.14 * S, px)
    k = (1.0 / (0.035 * S))[:, None, None]
    stripes = (np.sin(u * k * 1.4) > 0.3).astype(np.float32)
    spots = ((np.sin(u * k * 1.6) * np.sin(v * k * 1.6)) > 0.55).astype(np.float32)
    pattern = np.where((f["pattern"] == 2)[:, None, None], stripes,
                       np.where((f["pattern"] == 1)[:, None, None], spots, 0.0))
    spotted = (f["pattern"] == 1)[:, None, None, None]
    wing_px = wing_rgb[:, :, None, None] * (1 - 0.55 * pattern[:, None]) + 0.45 * pattern[:, None] * spotted
    img = over(img, wing, wing_px)

    eye = ellipse(u, v, 0.45 * S, -0.28 * S, 0.035 * S, 0.035 * S, px)
    img = over(img, eye, np.array([[0.03, 0.03, 0.03]], np.float32).repeat(n, 0))
    fg = np.maximum.reduce([tail, body, head, beak, wing])
    return np.clip(img, 0.0, 1.0), fg

