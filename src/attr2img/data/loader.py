"""PyTorch access to a processed dataset: tensors in [-1, 1], masks in {0, 1}.

The whole split stays in memory as uint8 (the datasets are small); conversion to float
happens per batch on the target device, in channels_last layout.

The networks are built for ``MODEL_SIZE`` (64) pixels. A dataset stored larger (CUB at 80x80,
as the authors stored it) is resized once, on loading, to 64: the models see the whole crop.
The birds' ``zoom_crop`` augmentation then trains on random 64/72 windows of it, as the
authors' random 64-pixel crops of the image resized to 72.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import torch
from torch.nn import functional as F

from attr2img.data.fmt import load_split, read_card
from attr2img.images import to_model_space

MODEL_SIZE = 64


def resize_u8(images_u8: torch.Tensor, masks_u8: torch.Tensor, size: int = MODEL_SIZE, chunk: int = 1024):
    """uint8 NHWC images and NHW masks resized to ``size`` (antialiased bilinear; masks re-thresholded at 0.5)."""
    imgs, masks = [], []
    for s in range(0, len(images_u8), chunk):
        x = images_u8[s:s + chunk].permute(0, 3, 1, 2).float()
        m = masks_u8[s:s + chunk].unsqueeze(1).float()
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        m = F.interpolate(m, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        imgs.append(x.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous())
        masks.append(((m[:, 0] >= 127.5).to(torch.uint8) * 255))
    return torch.cat(imgs), torch.cat(masks)


class ProcessedDataset(torch.utils.data.Dataset):
    """One split of a processed dataset; items are (x, m, y) tensors.

    >>> ds = ProcessedDataset("data/processed/synth-faces", "train")
    >>> x, m, y = ds[0]   # (3, 64, 64) in [-1, 1], (1, 64, 64) in {0, 1}, (A,)

    ``images`` and ``masks`` are uint8 at ``MODEL_SIZE`` whatever the stored size.
    """

    def __init__(self, root: str | Path, split: str, verify: bool = True):
        self.root, self.split = Path(root), split
        self.card = read_card(root)
        data = load_split(root, split, verify=verify)
        self.images = torch.from_numpy(data.images)
        self.masks = torch.from_numpy(data.masks)
        if self.images.shape[1] != MODEL_SIZE:
            self.images, self.masks = resize_u8(self.images, self.masks)
        self.attributes = torch.from_numpy(data.attributes)
        self.ids = list(data.ids)

    @property
    def attribute_names(self) -> list[str]:
        return list(self.card["attribute_names"])

    @property
    def attribute_kind(self) -> str:
        return self.card["attribute_kind"]

    def __len__(self) -> int:
        return len(self.images)

    def head(self, n: int) -> "ProcessedDataset":
        """The first ``n`` items (all of them for n = 0), as a dataset of its own."""
        n = len(self) if n == 0 else min(n, len(self))
        sub = object.__new__(ProcessedDataset)
        sub.__dict__.update(self.__dict__)
        sub.images, sub.masks, sub.attributes, sub.ids = self.images[:n], self.masks[:n], self.attributes[:n], self.ids[:n]
        return sub

    def __getitem__(self, i: int):
        x, m = to_model_space(self.images[i:i + 1], self.masks[i:i + 1])
        return x[0], m[0], self.attributes[i]

    def tensors(self, device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The whole split as one (x, m, y) batch, converted on ``device``."""
        x, m = to_model_space(self.images.to(device), self.masks.to(device))
        return x, m, self.attributes.to(device)

    def batches(self, batch_size: int, shuffle: bool = False, generator: torch.Generator | None = None,
                device: str | torch.device = "cpu", drop_last: bool = False,
                shard: tuple[int, int] = (0, 1)) -> Iterator[tuple]:
        """Yield (x, m, y) batches converted on ``device``.

        ``shard=(rank, world)`` yields only slice ``rank`` of ``world`` equal slices of each batch
        (data-parallel training: every rank shuffles alike and takes its part of the batch).
        """
        n = len(self)
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        stop = n - n % batch_size if drop_last else n
        rank, world = shard
        for s in range(0, stop, batch_size):
            idx = order[s:s + batch_size]
            if world > 1:
                idx = idx[rank * batch_size // world:(rank + 1) * batch_size // world]
            x, m = to_model_space(self.images[idx].to(device), self.masks[idx].to(device))
            yield x, m, self.attributes[idx].to(device)
