"""params.yaml ``train``: the training recipe and where it runs, as a typed config."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    seed: int
    device: str                 # auto (CUDA when present), cpu or cuda
    threads: int                # CPU threads for training and inference; 0 = all cores
    batch_size: int
    lr: float
    lr_schedule: str            # constant | cosine (to 0 over the run's steps)
    weight_decay: float
    kl_warmup: float            # fraction of a generator's steps over which its KL weight rises from 0 (0 = off)
    checkpoint_every: int       # epochs between checkpoints
    cuda_graph: bool            # on CUDA, replay each training step as a CUDA graph
    cpu_precision: str          # fp32 | bf16: the training step's arithmetic on the CPU (CUDA: always bf16 autocast)
    epochs: dict                # dataset -> model -> epochs
    augment: dict               # dataset -> AugmentConfig's keys
