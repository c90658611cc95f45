"""LFW foreground masks from the LFW Part Labels: a small segmentation network.

The Part Labels (Kae et al., CVPR 2013) label 2,927 *funneled* LFW images pixel by pixel:
``parts_lfw_funneled_gt_images/<Name>_<NNNN>.ppm``, red = hair, green = skin, blue =
background (values are not exactly 0/255: the label is the channel's argmax), with the
splits ``parts_train.txt`` / ``parts_validation.txt`` / ``parts_test.txt`` (lines ``Name N``).
Hair and skin are the foreground.

``lfw.prepare`` aligns each labelled image and its label map with the same transform, trains
``Segmenter`` on the train and validation lists, reports its IoU on the test list in the
card, and predicts a mask for every aligned image. Without the Part Labels it falls back to
the download-free template method (:func:`attr2img.data.real.lfw.template_mask`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from skimage import io as skio
from torch import nn
from torch.nn import functional as F

from attr2img.errors import DatasetError
from attr2img.images import to_model_space

LABELS = "parts_lfw_funneled_gt_images"
SPLIT_FILES = {"train": "parts_train.txt", "validation": "parts_validation.txt", "test": "parts_test.txt"}


def available(folder: Path) -> bool:
    return (Path(folder) / LABELS).is_dir() and all((Path(folder) / f).exists() for f in SPLIT_FILES.values())


def read_splits(folder: Path) -> dict:
    """{'train' | 'validation' | 'test': [(Person_Name, image number)]}."""
    out = {}
    for split, name in SPLIT_FILES.items():
        out[split] = [(f[0], int(f[1])) for f in (line.split() for line in (Path(folder) / name).read_text().splitlines())
                      if len(f) == 2]
    return out


def read_foreground(folder: Path, person: str, num: int) -> np.ndarray | None:
    """The hair-and-skin mask (bool) of one labelled image, or None when its file is missing."""
    path = Path(folder) / LABELS / f"{person}_{num:04d}.ppm"
    if not path.exists():
        return None
    lab = skio.imread(path)
    if lab.ndim != 3 or lab.shape[-1] < 3:
        raise DatasetError(f"{path}: expected an RGB label image, got shape {lab.shape}")
    return np.argmax(lab[..., :3], axis=-1) < 2           # red (hair) or green (skin)


class Segmenter(nn.Module):
    """A small encoder-decoder for 64x64 faces: logits of the foreground, (N, 1, 64, 64)."""

    def __init__(self, width: int = 16):
        super().__init__()
        w = width

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                                 nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))
        self.down1, self.down2, self.down3 = block(3, w), block(w, 2 * w), block(2 * w, 4 * w)
        self.up2, self.up1 = block(6 * w, 2 * w), block(3 * w, w)
        self.head = nn.Conv2d(w, 1, 1)

    def forward(self, x):
        d1 = self.down1(x)
        d2 = self.down2(F.max_pool2d(d1, 2))
        d3 = self.down3(F.max_pool2d(d2, 2))
        u2 = self.up2(torch.cat([F.interpolate(d3, scale_factor=2.0), d2], 1))
        u1 = self.up1(torch.cat([F.interpolate(u2, scale_factor=2.0), d1], 1))
        return self.head(u1)


def train_segmenter(images: np.ndarray, masks: np.ndarray, epochs: int = 30, batch: int = 32,
                    seed: int = 0, lr: float = 2e-3, min_steps: int = 300) -> Segmenter:
    """Fit a Segmenter to uint8 (N, 64, 64, 3) images and bool (N, 64, 64) masks (flip augmentation).

    ``epochs`` passes, or more when that would be under ``min_steps`` optimisation steps.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = Segmenter().train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x, y = to_model_space(images), torch.from_numpy(masks).float()[:, None]
    per_epoch = -(-len(x) // batch)
    for _ in range(max(epochs, -(-min_steps // per_epoch))):
        order = torch.randperm(len(x), generator=gen)
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            xb, yb = x[idx], y[idx]
            flip = torch.rand(len(idx), generator=gen) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            yb = torch.where(flip[:, None, None, None], yb.flip(3), yb)
            loss = F.binary_cross_entropy_with_logits(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model.eval()


@torch.no_grad()
def predict(model: Segmenter, images: np.ndarray, batch: int = 256) -> np.ndarray:
    """Foreground masks (bool, N x 64 x 64) for uint8 images."""
    out = [model(to_model_space(images[s:s + batch]))[:, 0] > 0 for s in range(0, len(images), batch)]
    return torch.cat(out).numpy()


def ious(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-image intersection over union of bool masks (N, H, W)."""
    inter = (pred & truth).reshape(len(pred), -1).sum(1)
    union = (pred | truth).reshape(len(pred), -1).sum(1)
    return inter / np.maximum(union, 1)


def mean_iou(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(ious(pred, truth).mean())
