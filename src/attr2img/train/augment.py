"""Training-time augmentation from the authors' code, batched on the training device.

Applied on [0, 1] pixels, masks transformed together with their images:
  - horizontal flip with probability 0.5 (image and mask),
  - per-channel gain U[1 - gain, 1 + gain],
  - residual sharpening x + s * (x - box5x5(x)) with s ~ U[0, sharpen],
  - birds also: rotation U[-rotate, rotate] rad and "resize to 72, random 64 crop"
    (zoom_crop), done as one affine resampling of image and mask;
  - optionally a random translation of up to ``shift`` pixels each way (the regressor's recipe),
    in the same resampling.
Random draws are per image, from the given generator (on the CPU, so that the same seed gives
the same augmentation on any device).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from attr2img.images import signed, unit
from attr2img.ops import box_filter


@dataclass(frozen=True)
class AugmentConfig:
    flip: bool = True
    gain: float = 0.03
    sharpen: float = 1.5
    rotate: float = 0.0
    zoom_crop: bool = False
    shift: float = 0.0          # random translation, up to this many pixels each way (x and y)


N_DRAWS = 9


def draws(n: int, gen: torch.Generator) -> torch.Tensor:
    """Every per-image random draw of one batch, in a fixed order, on the CPU: (n, N_DRAWS)."""
    return torch.rand(n, N_DRAWS, generator=gen)


def augment(x: torch.Tensor, m: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator):
    """x: (N, 3, H, W) in [-1, 1]; m: (N, 1, H, W) in {0, 1}. Returns augmented copies."""
    return apply(x, m, cfg, draws(len(x), gen).to(x.device))


def apply(x: torch.Tensor, m: torch.Tensor, cfg: AugmentConfig, r: torch.Tensor):
    """The augmentation for given draws ``r`` (on the images' device); no host synchronisation."""
    n = len(x)
    x = unit(x)
    if cfg.flip:
        f = (r[:, 0] < 0.5).view(n, 1, 1, 1)
        x, m = torch.where(f, x.flip(3), x), torch.where(f, m.flip(3), m)
    if cfg.rotate > 0 or cfg.zoom_crop or cfg.shift > 0:
        angle = (r[:, 1] * 2 - 1) * cfg.rotate
        s = 64.0 / 72.0 if cfg.zoom_crop else 1.0          # a 64 window of the image resized to 72
        reach = (1 - s) + 2.0 * cfg.shift / x.shape[-1]    # grid units: the image spans [-1, 1]
        tx, ty = (r[:, 2] * 2 - 1) * reach, (r[:, 3] * 2 - 1) * reach
        cos, sin = torch.cos(angle) * s, torch.sin(angle) * s
        theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        m = (F.grid_sample(m, grid, mode="bilinear", padding_mode="zeros", align_corners=False) >= 0.5).to(m.dtype)
    if cfg.gain > 0:
        x = x * (1 + (r[:, 4:7] * 2 - 1) * cfg.gain).view(n, 3, 1, 1)
    if cfg.sharpen > 0:
        s = (r[:, 7] * cfg.sharpen).view(n, 1, 1, 1)
        x = x + s * (x - box_filter(x, 5))
    x = signed(x.clamp(0.0, 1.0))
    return x.contiguous(memory_format=torch.channels_last), m.contiguous(memory_format=torch.channels_last)
