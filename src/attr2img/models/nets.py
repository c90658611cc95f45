"""Building blocks shared by the models, layer for layer as in the paper and the authors' code.

At width 1.0 (see ModelConfig.ch) the recognition image stream is
    conv 3->64 k5, ReLU, pool | conv 64->128 k5, BN, ReLU, pool | conv 128->256 k3, BN, ReLU,
    pool | conv 256->256 k3 s2, BN, ReLU | conv 256->1024 k4, ReLU | FC 1024->1024, ReLU, Dropout
and the generation stream is
    FC -> 256, ReLU | FC 256 -> 256*8*8, ReLU | conv 256->256 k3, BN, ReLU |
    3 x [nearest x2, conv k5, BN, ReLU] with 256->256, 256->128, 128->64 | heads conv 64->3 k5.

Two exact rewritings make the generation stream cheaper without changing the function it
computes (up to float rounding): a nearest x2 upsampling followed by a 5x5 convolution runs as
one 3x3 convolution at the low resolution and a pixel shuffle (UpConv2d), and output heads that
read the same features run as one convolution (ImageDecoder.head).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _phase_taps(k: int) -> torch.Tensor:
    """(2, 3, k) 0/1 matrix: for output phase a (even or odd pixel), which of a k-tap kernel's
    taps fall on each of the 3 low-resolution pixels i-1, i, i+1 after nearest x2 upsampling."""
    r = k // 2
    taps = torch.zeros(2, 3, k)
    for a in range(2):
        for d in range(-r, r + 1):
            taps[a, (a + d) // 2 + 1, d + r] = 1.0
    return taps


class UpConv2d(nn.Conv2d):
    """Nearest x2 upsampling, then this k x k convolution (stride 1, padding k // 2).

    For k = 5 it runs in sub-pixel form: output pixel (2i + a, 2j + b) sees only the
    low-resolution pixels i-1..i+1, j-1..j+1, so the four phases (a, b) are four 3x3 kernels
    (sums of the 5x5 taps that land on the same source pixel), computed as one 3x3 convolution
    with 4x the output channels at the low resolution, then pixel-shuffled. The padding matches
    exactly, the parameters stay the 5x5 kernel (so training and checkpoints are unchanged in
    meaning), and it costs 9/25 of the multiply-adds without the upsampled tensor: 2 to 3 times
    faster on the CPU (benchmarks/posterior_inference.py). For k = 3 the phases need 2 taps in
    3 positions, which saves nothing, and the direct form is kept."""

    def __init__(self, cin: int, cout: int, k: int, bias: bool = True):
        super().__init__(cin, cout, k, padding=k // 2, bias=bias)
        self.register_buffer("taps", _phase_taps(k), persistent=False)
        self.subpixel = k == 5        # False: the direct form (benchmarks count its FLOPs with it)
        # the phase kernel and bias once frozen (buffers, so that .to() moves them; not saved)
        self.register_buffer("frozen_weight", None, persistent=False)
        self.register_buffer("frozen_bias", None, persistent=False)

    def phase_kernel(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The sub-pixel form's (4 out, in, 3, 3) kernel and (4 out,) bias, from the 5x5 ones."""
        t = self.taps.to(self.weight.dtype)
        w = torch.einsum("ask,btl,oikl->aboist", t, t, self.weight)     # (a, b, out, in, 3, 3)
        w = w.reshape(-1, *w.shape[3:]).contiguous(memory_format=torch.channels_last)
        return w, None if self.bias is None else self.bias.repeat(4)

    def freeze(self) -> None:
        """Compute the phase kernel once, for a copy whose weights no longer change (the
        inference copy of ops.fold_batchnorm); it is otherwise rebuilt at every forward so that
        gradients reach the 5x5 parameters."""
        if self.subpixel:
            with torch.no_grad():
                self.frozen_weight, self.frozen_bias = self.phase_kernel()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.subpixel:
            return super().forward(F.interpolate(x, scale_factor=2, mode="nearest"))
        w, b = (self.frozen_weight, self.frozen_bias) if self.frozen_weight is not None else self.phase_kernel()
        return _pixel_shuffle_phase_major(F.conv2d(x, w, b, padding=1))


def _pixel_shuffle_phase_major(y: torch.Tensor) -> torch.Tensor:
    """(N, 4C, H, W) with channel (2a + b) * C + c -> (N, C, 2H, 2W) with pixel (2i + a, 2j + b),
    channels-last in and out: one copy, about 2.5x faster on the CPU than F.pixel_shuffle's
    channel order on a channels-last tensor."""
    n, c4, h, w = y.shape
    c = c4 // 4
    t = y.permute(0, 2, 3, 1).reshape(n, h, w, 2, 2, c).permute(0, 1, 3, 2, 4, 5)
    return t.reshape(n, 2 * h, 2 * w, c).permute(0, 3, 1, 2)


def conv_bn_relu(cin: int, cout: int, k: int, stride: int = 1, bn: bool = True, up: bool = False) -> list[nn.Module]:
    """conv k x k (after a nearest x2 upsampling with ``up``), batch norm, ReLU."""
    if up:
        conv = UpConv2d(cin, cout, k, bias=not bn)
    else:
        conv = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2 if k in (3, 5) else 0, bias=not bn)
    layers = [conv]
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


# the output heads' activations: images in [-1, 1], masks in [0, 1], gate logits for the BCE
HEAD_ACTIVATIONS = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "logits": lambda t: t}


class ImageDecoder(nn.Module):
    """[z; h_y] -> 64x64 feature maps with ``c4`` channels, then one conv head per output."""

    def __init__(self, d_in: int, channels: tuple[int, int, int, int, int], heads: dict[str, str]):
        super().__init__()
        fc, c0, c1, c2, c3 = channels   # paper: 256, 256, 256, 128, 64
        self.c0 = c0
        self.fc = nn.Sequential(nn.Linear(d_in, fc), nn.ReLU(inplace=True),
                                nn.Linear(fc, c0 * 8 * 8), nn.ReLU(inplace=True))
        self.body = nn.Sequential(
            *conv_bn_relu(c0, c0, 3),                  # 8x8
            *conv_bn_relu(c0, c1, 5, up=True),         # 16x16
            *conv_bn_relu(c1, c2, 5, up=True),         # 32x32
            *conv_bn_relu(c2, c3, 5, up=True),         # 64x64
        )
        # every head is conv c3->3 k5 with its own activation; they read the same features, so
        # they run as one convolution with 3 output channels per head
        unknown = sorted(set(heads.values()) - set(HEAD_ACTIVATIONS))
        if unknown:
            raise ValueError(f"unknown head activation(s) {unknown}; known: {sorted(HEAD_ACTIVATIONS)}")
        self.acts = {name: HEAD_ACTIVATIONS[kind] for name, kind in heads.items()}
        self.head = nn.Conv2d(c3, 3 * len(heads), 5, padding=2)

    def forward(self, h: torch.Tensor) -> dict[str, torch.Tensor]:
        f = self.fc(h).view(-1, self.c0, 8, 8).contiguous(memory_format=torch.channels_last)
        # each head's 3 channels as a dense channels-last tensor: an activation over a strided
        # slice of the joint output runs about 10x slower on the CPU than over a dense one
        out = (o.contiguous(memory_format=torch.channels_last) for o in self.head(self.body(f)).split(3, dim=1))
        return {name: act(o) for (name, act), o in zip(self.acts.items(), out)}


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
