"""One code path for CPU and GPU: device choice and mixed precision."""

from __future__ import annotations

import contextlib
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
    return n


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


def autocast(device: torch.device):
    """bf16 autocast on CUDA; plain fp32 on the CPU."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def add_device_argument(parser) -> None:
    """``--device``: the command-line override of params ``train.device``."""
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], help="override params train.device")
