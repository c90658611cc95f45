"""Saving and loading trained models: safetensors weights plus a JSON model card.

The card is deterministic: the same run gives the same bytes (config, dataset checksum,
training parameters, library versions, steps, final losses), so a model folder's hash
changes only when the model does. What differs between identical runs (seconds, device, git
revision, host) goes to a separate run record. Loading never unpickles anything: weights
come from safetensors, the config from JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

import attr2img
from attr2img.atomic import atomic_dir, write_json
from attr2img.errors import ModelError
from attr2img.models import build_model
from attr2img.models.config import ModelConfig
from attr2img.provenance import git_revision, host

WEIGHTS, CARD = "model.safetensors", "card.json"


def model_card(model: torch.nn.Module, *, dataset: str, data_card: dict, attribute_mean, train_params: dict,
               epochs: int, steps: int, final: dict, processes: int) -> dict:
    """What defines a trained model, and nothing that changes between identical runs.

    ``attribute_mean``: the training set's mean attribute vector, where an edit starts from
    (``attr2img sample`` and :class:`attr2img.generate.AttributeGenerator` alike)."""
    return {
        "model": model.cfg.model, "dataset": dataset, "attribute_names": list(data_card["attribute_names"]),
        "attribute_mean": [round(float(v), 6) for v in attribute_mean],
        "dataset_checksum": data_card["checksum"], "config": model.cfg.to_dict(), "train_params": train_params,
        "epochs": epochs, "steps": steps, "final": final, "processes": processes,
        "parameters": sum(p.numel() for p in model.parameters()),
        "versions": {"attr2img": attr2img.__version__, "torch": torch.__version__, "numpy": np.__version__},
    }


def save_model(out, model: torch.nn.Module, card: dict) -> None:
    """Write ``out/model.safetensors`` and ``out/card.json`` atomically."""
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    with atomic_dir(out) as tmp:
        save_file(state, str(tmp / WEIGHTS), metadata={"format": "pt"})
        write_json(tmp / CARD, card)


def write_run_record(path, *, seconds: float, device) -> None:
    """How this run went: seconds, device, git revision, host (not part of the cached model)."""
    write_json(path, {"seconds": round(seconds, 1), "device": str(device), "git_revision": git_revision(),
                      "host": host()})


def read_model_card(folder) -> dict:
    path = Path(folder) / CARD
    if not path.exists():
        raise ModelError(f"no trained model at {folder} (missing {path}); run the train stage: "
                         f"attr2img train --model MODEL --data DATA --out {folder}")
    try:
        card = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is corrupt ({exc}); retrain the model (rerun its train stage)") from None
    if not isinstance(card, dict) or "config" not in card or "model" not in card:
        raise ModelError(f"{path} is not a model card (no 'model' or 'config'); retrain the model")
    return card


def load_model(folder, device: str | torch.device = "cpu"):
    """Rebuild the network from its card and load its weights; returns (model in eval mode, card)."""
    card = read_model_card(folder)
    try:
        cfg = ModelConfig.from_dict(card["config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{folder}/{CARD}: invalid model config: {exc}") from None
    model = build_model(cfg)
    try:
        model.load_state_dict(load_file(str(Path(folder) / WEIGHTS)))
    except (OSError, RuntimeError, SafetensorError) as exc:
        raise ModelError(f"cannot load {folder}/{WEIGHTS} ({str(exc).splitlines()[0]}); it is missing, corrupt or "
                         f"not the network its card describes: retrain the model (rerun its train stage)") from None
    model = model.to(device).to(memory_format=torch.channels_last).eval()
    return model, card
