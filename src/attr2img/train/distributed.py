"""Data-parallel training over several processes, as started by ``torchrun``.

    torchrun --standalone --nproc_per_node 4 -m attr2img train ...   # same arguments as alone

Each process (rank) trains a replica with DistributedDataParallel on its shard of every
global batch: all ranks draw the same shuffle and the same per-image augmentation draws from
the shared seed and take their contiguous slice, so a global batch of ``train.batch_size``
images holds exactly the images, augmented exactly as, in a single-process run. DDP averages
the gradients, so the update is that of the global batch's mean loss. Differences from one
process: BatchNorm statistics are per rank on the CPU (SyncBatchNorm, which needs a GPU, is
used on CUDA), and dropout and the reparameterisation noise come from per-rank seeds.

Rank 0 alone evaluates, logs, checkpoints and writes the model; checkpoints carry every
rank's random state, so a killed run resumes on the same number of processes as if it had
not stopped. The backend is NCCL on CUDA (one GPU per rank, ``cuda:LOCAL_RANK``) and gloo
on the CPU. Outside torchrun (no ``WORLD_SIZE`` > 1) nothing here does anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from attr2img.errors import ModelError


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def from_env() -> Ranks:
    """This process's place in a torchrun launch (one process when not launched by torchrun)."""
    try:
        return Ranks(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                     int(os.environ.get("LOCAL_RANK", 0)))
    except ValueError as exc:
        raise ModelError(f"invalid torchrun environment (RANK, WORLD_SIZE, LOCAL_RANK): {exc}") from None


def setup(ranks: Ranks, device: torch.device) -> torch.device:
    """Join the process group; returns this rank's device (its own GPU on CUDA)."""
    if not ranks.enabled:
        return device
    if device.type == "cuda":
        if ranks.local_rank >= torch.cuda.device_count():
            raise ModelError(f"rank {ranks.rank} wants GPU {ranks.local_rank} but this node has "
                             f"{torch.cuda.device_count()}: start at most that many processes per node")
        device = torch.device("cuda", ranks.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def check_batch(ranks: Ranks, batch_size: int) -> int:
    """The per-rank batch size; the global batch must split evenly."""
    if batch_size % ranks.world:
        raise ModelError(f"train.batch_size {batch_size} does not split evenly over {ranks.world} processes: "
                         f"use a multiple of {ranks.world}")
    return batch_size // ranks.world


class LossModule(nn.Module):
    """``forward(x, m, y) = model.loss(x, m, y)``: DDP synchronises gradients through forward."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x, m, y):
        return self.model.loss(x, m, y)


def wrap(model: nn.Module, ranks: Ranks, device: torch.device):
    """The loss function to train with: ``model.loss`` alone, or through DDP across ranks."""
    if not ranks.enabled:
        return model.loss
    if device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return nn.parallel.DistributedDataParallel(LossModule(model), device_ids=[device] if device.type == "cuda" else None)


def mean_over_ranks(values: dict, ranks: Ranks) -> dict:
    """Average each tensor of ``values`` over the ranks (identity for one process)."""
    if not ranks.enabled or not values:
        return values
    keys = sorted(values)
    stacked = torch.stack([values[k].double() for k in keys])
    dist.all_reduce(stacked)
    return dict(zip(keys, stacked / ranks.world))


def gather(obj, ranks: Ranks) -> list:
    """Every rank's ``obj``, in rank order."""
    if not ranks.enabled:
        return [obj]
    out = [None] * ranks.world
    dist.all_gather_object(out, obj)
    return out


def barrier(ranks: Ranks) -> None:
    if ranks.enabled:
        dist.barrier()


def teardown(ranks: Ranks) -> None:
    if ranks.enabled and dist.is_initialized():
        dist.destroy_process_group()
