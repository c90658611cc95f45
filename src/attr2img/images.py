"""Image conversions between storage and the networks, the only place they are written.

Storage (processed datasets, PNGs, examples): uint8 NHWC in [0, 255], masks uint8 NHW with
255 = foreground. Model space: float NCHW in [-1, 1] (channels_last), masks N1HW in {0, 1}.
Display (matplotlib): float NHWC in [0, 1].
"""

from __future__ import annotations

import numpy as np
import torch


def to_model_space(images_u8: torch.Tensor, masks_u8: torch.Tensor | None = None):
    """uint8 NHWC images (and NHW masks) -> float NCHW in [-1, 1] (and N1HW in {0, 1}), channels_last.

    Returns the images alone when no masks are given, else (images, masks).
    """
    x = torch.as_tensor(images_u8).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
    x = x.contiguous(memory_format=torch.channels_last)
    if masks_u8 is None:
        return x
    m = (torch.as_tensor(masks_u8) >= 128).float().unsqueeze(1)
    return x, m.contiguous(memory_format=torch.channels_last)


def unit(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1], differentiable and unclamped (the models' own arithmetic)."""
    return (x + 1.0) * 0.5


def signed(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1], the inverse of :func:`unit`."""
    return x * 2.0 - 1.0


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """Model space [-1, 1] -> [0, 1] for measuring and showing (float, detached, clamped)."""
    return unit(x.detach().float().clamp(-1, 1))


def to_display(x: torch.Tensor) -> np.ndarray:
    """Model-space NCHW (or CHW) -> float NHWC (or HWC) numpy in [0, 1], for matplotlib."""
    return to_unit(x).movedim(-3, -1).cpu().numpy()


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """Model-space NCHW -> uint8 NHWC numpy (rounded to the nearest level)."""
    return ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round_().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
