"""Building blocks shared by the models, layer for layer as in the paper and the authors' code.

At width 1.0 (see ModelConfig.ch) the recognition image stream is
    conv 3->64 k5, ReLU, pool | conv 64->128 k5, BN, ReLU, pool | conv 128->256 k3, BN, ReLU,
    pool | conv 256->256 k3 s2, BN, ReLU | conv 256->1024 k4, ReLU | FC 1024->1024, ReLU, Dropout
and the generation stream is
    FC -> 256, ReLU | FC 256 -> 256*8*8, ReLU | conv 256->256 k3, BN, ReLU |
    3 x [nearest x2, conv k5, BN, ReLU] with 256->256, 256->128, 128->64 | heads conv 64->3 k5.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_bn_relu(cin: int, cout: int, k: int, stride: int = 1, bn: bool = True) -> list[nn.Module]:
    layers = [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2 if k in (3, 5) else 0, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.ReLU(inplace=True))
    return layers


class ImageEncoder(nn.Sequential):
    """64x64x3 -> a feature vector of size ``channels[-1]`` (the FC layer's width)."""

    def __init__(self, channels: tuple[int, int, int, int, int, int], dropout: float):
        c1, c2, c3, c4, c5, fc = channels
        super().__init__(
            *conv_bn_relu(3, c1, 5, bn=False), nn.MaxPool2d(2),           # 32x32
            *conv_bn_relu(c1, c2, 5), nn.MaxPool2d(2),                     # 16x16
            *conv_bn_relu(c2, c3, 3), nn.MaxPool2d(2),                     # 8x8
            *conv_bn_relu(c3, c4, 3, stride=2),                            # 4x4
            *conv_bn_relu(c4, c5, 4, bn=False),                            # 1x1
            nn.Flatten(),
            nn.Linear(c5, fc), nn.ReLU(inplace=True),
            nn.Dropout(dropout),   # dropout lives on the image stream only
        )
        self.out_features = fc


class GaussianHead(nn.Module):
    """q(z | h_x, h_y): the mean sees both streams, the log-variance the image stream only
    (its weights start at zero, so training starts from unit variance)."""

    def __init__(self, d_image: int, d_cond: int, z_dim: int):
        super().__init__()
        self.mu = nn.Linear(d_image + d_cond, z_dim)
        self.logvar = nn.Linear(d_image, z_dim)
        nn.init.zeros_(self.logvar.weight)
        nn.init.zeros_(self.logvar.bias)

    def forward(self, h_image: torch.Tensor, h_cond: torch.Tensor | None):
        h = h_image if h_cond is None else torch.cat([h_image, h_cond], dim=1)
        return self.mu(h), self.logvar(h_image)


class ImageDecoder(nn.Module):
    """[z; h_y] -> 64x64 feature maps with ``c4`` channels, then one conv head per output."""

    def __init__(self, d_in: int, channels: tuple[int, int, int, int, int], heads: dict[str, str]):
        super().__init__()
        fc, c0, c1, c2, c3 = channels   # paper: 256, 256, 256, 128, 64
        self.c0 = c0
        self.fc = nn.Sequential(nn.Linear(d_in, fc), nn.ReLU(inplace=True),
                                nn.Linear(fc, c0 * 8 * 8), nn.ReLU(inplace=True))
        up = lambda: nn.Upsample(scale_factor=2, mode="nearest")  # noqa: E731
        self.body = nn.Sequential(
            *conv_bn_relu(c0, c0, 3),                  # 8x8
            up(), *conv_bn_relu(c0, c1, 5),            # 16x16
            up(), *conv_bn_relu(c1, c2, 5),            # 32x32
            up(), *conv_bn_relu(c2, c3, 5),            # 64x64
        )
        acts = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "logits": nn.Identity}
        self.heads = nn.ModuleDict({name: nn.Sequential(nn.Conv2d(c3, 3, 5, padding=2), acts[act]())
                                    for name, act in heads.items()})

    def forward(self, h: torch.Tensor) -> dict[str, torch.Tensor]:
        f = self.fc(h).view(-1, self.c0, 8, 8).contiguous(memory_format=torch.channels_last)
        f = self.body(f)
        return {name: head(f) for name, head in self.heads.items()}


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)), summed over latent dimensions: shape (N,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return mu + torch.randn_like(mu) * (0.5 * logvar).exp()


def recon_loss(pred: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-image reconstruction loss, summed over pixels: shape (N,)."""
    if kind == "l2":
        err = (pred.float() - target.float()).pow(2)
    else:
        err = nn.functional.smooth_l1_loss(pred.float(), target.float(), reduction="none")
    return err.flatten(1).sum(dim=1)
