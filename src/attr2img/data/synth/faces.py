"""synth-faces: an embedded stand-in for aligned LFW faces, rendered from a seed.

Each image is a cartoon head (hair, face, neck, eyes, brows, nose, mouth, optional glasses,
sunglasses, beard and moustache) over a natural-image background. Attribute scores imitate
LFW's continuous classifier scores (Kumar et al.): positive means "present", with noise.

LFW's scores are the outputs of classifiers run on the image, so every attribute here is drawn
where the image shows it: gender in the lips' colour, the brows and the face's width; age in
lines on the forehead and cheeks and a darker skin; a moustache darker than a beard
(docs/fidelity.md: before these cues the judge could barely read gender, age or a moustache).

Factors that are deliberately NOT attributes, so that the latent variables have work to do:
position and scale jitter, head turn, hair length, lighting direction and strength, a colour
cast, and the background (source photograph, crop, flip and gain).

The foreground mask (hair, face, neck) is exact: it is the coverage of those layers.
"""

from __future__ import annotations

import numpy as np

from attr2img.data.synth import backgrounds
from attr2img.data.synth.raster import band, ellipse, frame, grid, over

NAME = "synth-faces"
SIZE = 64
ATTRIBUTES = (
    "Male", "Youth", "Senior", "Smiling", "Frowning", "Mouth Wide Open",
    "Eyeglasses", "Sunglasses", "Black Hair", "Blond Hair", "Brown Hair", "Gray Hair",
    "Bald", "Bangs", "No Beard", "Mustache", "Pale Skin",
)
KIND = "continuous"
HAIR_COLORS = np.array([[0.07, 0.06, 0.06],   # black
                        [0.93, 0.80, 0.45],   # blond
                        [0.42, 0.25, 0.12],   # brown
                        [0.72, 0.72, 0.74]],  # gray
                       dtype=np.float32)
SKIN_PALE = np.array([0.97, 0.82, 0.72], dtype=np.float32)
SKIN_DARK = np.array([0.38, 0.24, 0.16], dtype=np.float32)
LIPS_FEMALE = np.array([0.80, 0.17, 0.30], dtype=np.float32)
LIPS_MALE = np.array([0.62, 0.30, 0.27], dtype=np.float32)
WRINKLE_ALPHA = 0.75              # opacity of the lines of age at age 1

# Face-template geometry in head units (multiplied by the per-image scale S), relative to the
# face centre: the completion occluders of later stages are defined from these.
EYE_DX, EYE_DY = 0.14, -0.08
MOUTH_DY = 0.24
# Where the face sits: its centre and scale are drawn uniformly from these ranges (normalised
# coordinates, y down); the templates of later stages use the means. The scale makes the crop
# tight on the face, as aligned LFW crops are: at the mean the eyes are 22 % of the width apart
# (14 px of 64) and the head fills about half the frame, with background left at the sides for
# the layered model. (The five-point template widely used for aligned LFW crops, 112 px, puts the
# eyes 35 px, 31 %, apart.) The first synth-faces (scale 0.98) had them 14 % apart, 9 px, with
# lips 2 px thick: too small for the generators at the default width to draw them
# (docs/fidelity.md, "How much of the frame the face fills").
CX_RANGE, CY_RANGE, SCALE_RANGE = (-0.08, 0.08), (-0.06, 0.08), (1.45, 1.75)
MEAN_CX, MEAN_CY, MEAN_SCALE = (round(sum(r) / 2, 6) for r in (CX_RANGE, CY_RANGE, SCALE_RANGE))


# The factors the attributes describe; every other factor is a nuisance (sample_nuisance).
SEMANTIC = ("male", "age", "smile", "open", "eyewear", "hair", "bald", "bangs", "beard", "mustache", "tone")


def sample_factors(rng: np.random.Generator, n: int) -> dict:
    """Draw the semantic factors, then the nuisance factors given them, for ``n`` faces."""
    f = sample_semantic(rng, n)
    f.update(sample_nuisance(rng, f))
    return f


def sample_semantic(rng: np.random.Generator, n: int) -> dict:
    """The factors the attributes describe (``SEMANTIC``) for ``n`` faces."""
    f = {}
    f["male"] = rng.random(n) < 0.5
    f["age"] = rng.beta(1.3, 1.3, n)                          # 0 young .. 1 old
    f["smile"] = np.clip(rng.normal(0.15, 0.55, n), -1, 1)   # <0 frown, >0 smile
    f["open"] = rng.beta(0.8, 2.0, n)                         # mouth opening
    f["eyewear"] = rng.choice(3, n, p=[0.6, 0.25, 0.15])      # none, glasses, sunglasses
    p_gray = np.clip((f["age"] - 0.45) * 1.6, 0, 0.9)
    base = rng.choice(3, n, p=[0.4, 0.25, 0.35])              # black, blond, brown
    f["hair"] = np.where(rng.random(n) < p_gray, 3, base)
    f["bald"] = f["male"] & (rng.random(n) < 0.1 + 0.4 * f["age"])
    f["bangs"] = ~f["bald"] & (rng.random(n) < np.where(f["male"], 0.2, 0.45))
    f["beard"] = f["male"] & (rng.random(n) < 0.3)
    f["mustache"] = f["male"] & (rng.random(n) < np.where(f["beard"], 0.8, 0.15))
    f["tone"] = rng.uniform(0, 1, n)                          # 0 pale .. 1 dark
    return f


def sample_nuisance(rng: np.random.Generator, semantic: dict) -> dict:
    """The nuisance factors of faces with the given semantic factors, drawn from their
    distribution given those (hair length depends on gender and baldness)."""
    f, n = {}, len(semantic["male"])
    f["long_hair"] = ~semantic["bald"] & (rng.random(n) < np.where(semantic["male"], 0.1, 0.75))
    f["cx"] = rng.uniform(*CX_RANGE, n)
    f["cy"] = rng.uniform(*CY_RANGE, n)
    f["scale"] = rng.uniform(*SCALE_RANGE, n)
    f["turn"] = rng.uniform(-1, 1, n)
    f["light"] = rng.uniform(-0.35, 0.35, n)
    f["gain"] = rng.uniform(0.8, 1.15, (n, 1)) * rng.uniform(0.93, 1.07, (n, 3))
    f.update(backgrounds.draw(rng, n))
    return f


SCORE_NOISE = 0.3                 # standard deviation of the noise on every score


def clean_attributes(f: dict) -> np.ndarray:
    """The noise-free scores the factors imply, one column per name in ATTRIBUTES."""

    def on(flag, hi=1.8, lo=-1.5):
        return np.where(flag, hi, lo)

    hair = f["hair"]
    no_hair_colour = f["bald"]
    cols = [
        on(f["male"], 1.8, -1.8),
        1.5 - 3.0 * f["age"],
        3.0 * f["age"] - 1.8,
        2.5 * f["smile"] - 0.2,
        -2.5 * f["smile"] - 0.6,
        3.0 * f["open"] - 1.4,
        on(f["eyewear"] == 1),
        on(f["eyewear"] == 2),
        on((hair == 0) & ~no_hair_colour),
        on((hair == 1) & ~no_hair_colour),
        on((hair == 2) & ~no_hair_colour),
        on((hair == 3) & ~no_hair_colour),
        on(f["bald"], 2.0),
        on(f["bangs"]),
        on(~f["beard"], 1.5, -2.0),
        on(f["mustache"]),
        2.0 - 4.0 * f["tone"],
    ]
    return np.stack(cols, axis=1).astype(np.float32)


def attributes(rng: np.random.Generator, f: dict) -> np.ndarray:
    """LFW-style scores (roughly in [-3, 3]): the clean scores plus Gaussian noise."""
    clean = clean_attributes(f)
    return (clean + rng.normal(0, SCORE_NOISE, clean.shape)).astype(np.float32)


def render(f: dict, size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Paint faces over their backgrounds: float images (N, 3, H, W) in [0, 1] and fg coverage."""
    n = len(f["male"])
    px = 2.0 / size
    y, x = grid(size)
    S = f["scale"].astype(np.float32)
    cx, cy = f["cx"], f["cy"]
    u, v = frame(y, x, cx, cy)
    turn = f["turn"]
    fx = 0.07 * S * turn                                    # features shift with the head turn
    hair_rgb = HAIR_COLORS[f["hair"]]
    skin = (SKIN_PALE[None] * (1 - f["tone"][:, None]) + SKIN_DARK[None] * f["tone"][:, None])
    skin = skin * (1.0 - 0.12 * f["age"][:, None])
    img = backgrounds.render(f, size)

    # hair behind the head (absent when bald); long hair reaches the shoulders
    has_hair = (~f["bald"]).astype(np.float32)[:, None, None]
    hair_a = ellipse(u, v, 0.0 * S, -0.12 * S, 0.47 * S, 0.50 * S, px)
    long_a = ellipse(u, v, 0.0 * S, 0.20 * S, 0.50 * S, 0.62 * S, px) * (v > (-0.1 * S)[:, None, None])
    hair_a = np.maximum(hair_a, long_a * f["long_hair"][:, None, None]) * has_hair
    img = over(img, hair_a, hair_rgb)

    # neck, then the face with directional shading
    neck_a = band(u, v, (0.62 * S)[:, None, None], 0.14 * S, 0.70 * S, px)
    face_rx = 0.34 * S * (1 - 0.08 * np.abs(turn)) * np.where(f["male"], 1.06, 0.97)
    face_a = ellipse(u, v, 0.0 * S, 0.0 * S, face_rx, 0.44 * S, px)
    shade = 1.0 + f["light"][:, None, None] * np.clip(u / (0.4 * S)[:, None, None], -1.3, 1.3)
    skin_px = skin[:, :, None, None] * shade[:, None]
    img = over(img, neck_a, skin_px * 0.85)
    img = over(img, face_a, skin_px)
    fg = np.maximum(np.maximum(hair_a, neck_a), face_a)

    uf = u - fx[:, None, None]                              # coordinates of the turned features
    # beard and moustache (darkened hair colour), bangs over the forehead
    beard_a = face_a * np.clip((v - (0.14 * S)[:, None, None]) / px, 0, 1) * f["beard"][:, None, None]
    img = over(img, beard_a * 0.9, hair_rgb * 0.8)
    wave = 0.02 * S[:, None, None] * np.sin(u / (0.05 * S)[:, None, None])
    bangs_a = face_a * np.clip(((-0.20 * S)[:, None, None] + wave - v) / px, 0, 1) * f["bangs"][:, None, None]
    img = over(img, bangs_a, hair_rgb)

    # age: forehead lines and cheek folds, fading in with age (under bangs, drawn next)
    wrinkle_a = np.zeros_like(face_a)
    for dv in (-0.25, -0.31):
        wrinkle_a = np.maximum(wrinkle_a, band(uf, v, (dv * S)[:, None, None], 0.13 * S, 0.03 * S, px))
    for side in (-1.0, 1.0):
        wrinkle_a = np.maximum(wrinkle_a, band(v - (0.15 * S)[:, None, None], uf, (side * 0.16 * S)[:, None, None],
                                               0.07 * S, 0.03 * S, px))
    wrinkle_a = wrinkle_a * face_a * (1 - bangs_a) * (1 - beard_a) * (WRINKLE_ALPHA * f["age"])[:, None, None]
    img = over(img, wrinkle_a, skin * 0.55)

    # eyes and brows (brows tilt with a frown; men's are heavier)
    brow_thick = np.where(f["male"], 0.034, 0.018) * S
    white = np.ones((n, 3), np.float32) * 0.95
    dark = np.array([[0.08, 0.06, 0.05]], np.float32).repeat(n, 0)
    brow_rgb = np.where(f["bald"][:, None], hair_rgb * 0.5 + 0.2, hair_rgb * 0.8)
    for side in (-1.0, 1.0):
        ex = side * EYE_DX * S
        ue = uf - ex[:, None, None]
        img = over(img, ellipse(ue, v, 0 * S, EYE_DY * S, 0.055 * S, 0.032 * S, px), white)
        img = over(img, ellipse(ue, v, 0.008 * S * turn, EYE_DY * S, 0.025 * S, 0.025 * S, px), dark)
        tilt = (-np.minimum(f["smile"], 0) * 0.5 * side)[:, None, None] * ue
        brow_v = (EYE_DY * S - 0.075 * S)[:, None, None] - tilt
        img = over(img, band(ue, v, brow_v, 0.065 * S, brow_thick, px), brow_rgb)

    # nose
    img = over(img, ellipse(uf * 1.0, v, 0.04 * S * turn, 0.07 * S, 0.03 * S, 0.06 * S, px) * 0.35, skin * 0.6)

    # mouth: a curved band; smiling lowers its centre (corners up), frowning raises it
    w = 0.11 * S * (1 + 0.35 * np.maximum(f["smile"], 0))
    du = uf / w[:, None, None]
    mouth_v = (MOUTH_DY * S)[:, None, None] + (0.05 * S * f["smile"])[:, None, None] * (1 - du ** 2)
    thick = 0.028 * S + 0.07 * S * f["open"]
    lips_a = band(uf, v, mouth_v, w, thick + 0.02 * S, px)
    lips_rgb = np.where(f["male"][:, None], LIPS_MALE, LIPS_FEMALE) * (1 - 0.4 * f["tone"][:, None])
    img = over(img, lips_a, lips_rgb)
    inner_a = band(uf, v, mouth_v, w * 0.85, thick * 0.6, px) * (f["open"] > 0.25)[:, None, None]
    img = over(img, inner_a, np.array([[0.18, 0.04, 0.05]], np.float32).repeat(n, 0))
    must_a = band(uf, v, mouth_v - (thick / 2 + 0.04 * S)[:, None, None], w * 1.05, 0.045 * S, px)
    img = over(img, must_a * f["mustache"][:, None, None], hair_rgb * 0.45)   # darker than a beard

    # eyewear: rings (glasses) or dark filled lenses (sunglasses), with a bridge
    glasses = (f["eyewear"] == 1)[:, None, None]
    sun = (f["eyewear"] == 2)[:, None, None]
    for side in (-1.0, 1.0):
        ue = uf - (side * EYE_DX * S)[:, None, None]
        outer = ellipse(ue, v, 0 * S, EYE_DY * S, 0.085 * S, 0.065 * S, px)
        inner = ellipse(ue, v, 0 * S, EYE_DY * S, 0.067 * S, 0.047 * S, px)
        img = over(img, (outer - inner).clip(0, 1) * glasses, dark)
        img = over(img, outer * sun, np.array([[0.04, 0.05, 0.08]], np.float32).repeat(n, 0))
    bridge = band(uf, v, (EYE_DY * S - 0.01 * S)[:, None, None], 0.06 * S, 0.014 * S, px)
    img = over(img, bridge * (glasses | sun), dark)

    img = np.clip(img * f["gain"][:, :, None, None], 0.0, 1.0)
    return img, fg

