"""One code path for CPU and GPU: device choice and mixed precision."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os

import torch

from attr2img.errors import UsageError


def configure_threads(threads: int) -> int:
    """Use ``threads`` CPU threads (0 = every core this process may use) and return the count.

    Set explicitly because workflow engines differ (Snakemake exports OMP_NUM_THREADS=1 to its
    jobs, DVC does not) and CPU results depend on the thread count: with the same setting both
    engines compute bit-identical models on the same machine.
    """
    n = threads or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    torch.set_num_threads(n)
    keep_freed_memory()
    return n


def keep_freed_memory() -> bool:
    """Keep freed tensor memory in the process's heap instead of returning it to the system.

    PyTorch's CPU tensors come from malloc, and glibc serves blocks above its mmap threshold
    (128 KiB at first, rising with use) with fresh pages that are zero-filled on first touch
    and unmapped when freed; a training or posterior-inference step allocates and frees the same
    few-MiB activations every iteration, so it paid for those page faults every time. Raising
    the threshold to glibc's maximum (32 MiB) and the trim threshold to 1 GiB keeps the pages:
    the same results, 10 to 30 % faster steps at width 0.125 (docs/benchmarks.md). A no-op
    (returns False) where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    return bool(mallopt(m_mmap_threshold, 32 << 20) and mallopt(m_trim_threshold, 1 << 30)
                and mallopt(m_top_pad, 64 << 20))


def resolve_device(preference: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU; any other name (``cpu``, ``cuda``,
    ``cuda:1``) or a ``torch.device`` is that device, refused when it is not there."""
    if str(preference) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(preference)
    except (RuntimeError, TypeError):
        raise UsageError(f"unknown device {preference!r}; use auto, cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"device {str(preference)!r} was requested but this machine has no CUDA device; use "
                         f"--device cpu (or auto), or set train.device in params.yaml")
    return device


def autocast(device: torch.device, cpu_precision: str = "fp32"):
    """bf16 autocast on CUDA; on the CPU plain fp32, or bf16 autocast with ``cpu_precision="bf16"``
    (params ``train.cpu_precision`` for the generators' training, ``regressor.cpu_precision`` for
    the judge's; inference stays fp32)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    if cpu_precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    if cpu_precision != "fp32":
        raise ValueError(f"unknown CPU precision {cpu_precision!r}; choose fp32 or bf16")
    return contextlib.nullcontext()


def add_device_argument(parser) -> None:
    """``--device``: the command-line override of params ``train.device``."""
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], help="override params train.device")
