"""Small tensor operations shared by several stages."""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from attr2img.models.nets import UpConv2d


def box_filter(x: torch.Tensor, k: int = 5) -> torch.Tensor:
    """Mean over the k x k window of each pixel, counting only pixels inside the image (the
    same as avg_pool2d(..., count_include_pad=False)), as a depthwise convolution: about 3x
    faster than that pooling on the CPU."""
    c, p = x.shape[1], k // 2
    w = torch.ones(c, 1, k, k, dtype=x.dtype, device=x.device)
    total = F.conv2d(F.pad(x, (p, p, p, p)), w, groups=c)
    count = F.conv2d(F.pad(torch.ones_like(x[:1, :1]), (p, p, p, p)), w[:1])
    return total / count


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """An evaluation-mode copy of ``model`` in which every BatchNorm2d that directly follows a
    Conv2d in an ``nn.Sequential`` is folded into that convolution's weights and bias (and
    replaced by an identity). The copy computes the same function up to float rounding; its
    parameters do not require gradients. Posterior inference back-propagates through the
    decoder at every step, and on the CPU an evaluation-mode batch norm's backward costs as
    much as a convolution's (benchmarks/posterior_inference.py). The sub-pixel kernels of its
    upsampling convolutions are computed once (UpConv2d.freeze), not at every forward. Its
    ReLUs are out of place: with the batch norm gone, an in-place ReLU acts on the sub-pixel
    convolution's output, a view of the pixel shuffle's copy, and its backward would then copy the
    whole gradient at every step (1.25 to 1.3x slower)."""
    model = copy.deepcopy(model).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    for seq in model.modules():
        if not isinstance(seq, nn.Sequential):
            continue
        for i in range(len(seq) - 1):
            conv, bn = seq[i], seq[i + 1]
            if not (isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d) and bn.running_var is not None):
                continue
            with torch.no_grad():
                scale = torch.rsqrt(bn.running_var + bn.eps)
                if bn.weight is not None:
                    scale = scale * bn.weight
                shift = -bn.running_mean * scale
                if conv.bias is not None:
                    shift = shift + conv.bias * scale
                if bn.bias is not None:
                    shift = shift + bn.bias
                fmt = (torch.channels_last if conv.weight.is_contiguous(memory_format=torch.channels_last)
                       and not conv.weight.is_contiguous() else torch.contiguous_format)
                weight = (conv.weight * scale.view(-1, 1, 1, 1)).contiguous(memory_format=fmt)
            conv.weight = nn.Parameter(weight, requires_grad=False)
            conv.bias = nn.Parameter(shift.to(weight.dtype), requires_grad=False)
            seq[i + 1] = nn.Identity()
    for m in model.modules():
        if isinstance(m, UpConv2d):
            m.freeze()
        elif isinstance(m, nn.ReLU):
            m.inplace = False
    return model
