"""Resumable training: one ``last.pt`` per run, valid only for the run that made it.

A checkpoint holds the model, the optimizer, the epoch, the step, the training curve so far,
the elapsed time and every RNG state (one per rank). Its fingerprint is a hash of everything
that defines the run; a checkpoint with another fingerprint is ignored, and one holding
anything but tensors and plain values is refused (it is never unpickled). The training stage
puts the hash of its source files into the fingerprint (``attr2img.sources.code_hash``), so a
run never continues from a checkpoint that other code made.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import torch
from tqdm import tqdm

from attr2img.atomic import atomic_path
from attr2img.errors import ModelError


def fingerprint(*parts) -> str:
    """A stable hash of JSON-able ``parts``."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def rng_state(gen: torch.Generator, device: torch.device) -> dict:
    state = {"generator": gen.get_state(), "torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, gen: torch.Generator, device: torch.device) -> None:
    gen.set_state(state["generator"])
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


class Checkpoint:
    def __init__(self, folder, fingerprint: str):
        self.path = Path(folder) / "last.pt"
        self.fingerprint = fingerprint

    def load(self) -> dict | None:
        """The saved state of this run, or None (no checkpoint, or another run's)."""
        if not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)   # no arbitrary unpickling
        except pickle.UnpicklingError as exc:
            raise ModelError(f"refusing to load {self.path}: it holds objects other than tensors and plain "
                             f"values ({str(exc).splitlines()[0]}); delete it to train from scratch") from None
        if state.get("fingerprint") != self.fingerprint:
            tqdm.write(f"ignoring {self.path}: it belongs to other parameters, data or code")
            return None
        return state

    def save(self, **state) -> None:
        with atomic_path(self.path) as tmp:
            torch.save({"fingerprint": self.fingerprint, **state}, tmp)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
