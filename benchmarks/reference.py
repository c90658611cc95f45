"""The machine's best measured dense rate, the reference the benchmarks report fractions of.

The larger of a big matrix product and a big convolution (channels_last, a 3x3 layer of the
size the paper's networks use), both measured in the same run: on some CPUs oneDNN's
convolutions outrun the BLAS matrix product (an AMD EPYC VM: matmul 208 GFLOP/s against a
training step's 407), so a matmul-only reference overstates efficiency there.
"""

from __future__ import annotations

import time

import torch
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _rate(fn, flops: float, device, seconds: float) -> float:
    fn()
    sync(device)
    reps, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        fn()
        reps += 1
    sync(device)
    return flops * reps / (time.perf_counter() - t)


def matmul_flops(device, seconds: float = 3.0) -> float:
    n = 4096 if device.type == "cpu" else 8192
    dtype = torch.float32 if device.type == "cpu" else torch.bfloat16
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    return _rate(lambda: a @ b, 2 * n ** 3, device, seconds)


def conv_flops(device, seconds: float = 3.0) -> float:
    dtype = torch.float32 if device.type == "cpu" else torch.bfloat16
    batch = 32 if device.type == "cpu" else 256
    x = torch.randn(batch, 256, 32, 32, device=device, dtype=dtype).contiguous(memory_format=torch.channels_last)
    w = torch.randn(256, 256, 3, 3, device=device, dtype=dtype).contiguous(memory_format=torch.channels_last)
    with FlopCounterMode(display=False) as counter:
        F.conv2d(x, w, padding=1)
    return _rate(lambda: F.conv2d(x, w, padding=1), counter.get_total_flops(), device, seconds)


def reference(device, seconds: float = 3.0) -> dict:
    """{"matmul": FLOP/s, "conv": FLOP/s, "best": the larger}."""
    mm, cv = matmul_flops(device, seconds), conv_flops(device, seconds)
    return {"matmul": mm, "conv": cv, "best": max(mm, cv)}


def describe(ref: dict) -> str:
    return (f"reference: {ref['best'] / 1e9:.1f} GFLOP/s, the larger of matmul {ref['matmul'] / 1e9:.1f} and "
            f"convolution {ref['conv'] / 1e9:.1f}")
