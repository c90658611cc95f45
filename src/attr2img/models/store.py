"""Saving and loading trained models: safetensors weights plus a JSON model card.

Loading never unpickles anything: weights come from safetensors, the config from JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from attr2img.atomic import atomic_dir, write_json
from attr2img.errors import ModelError
from attr2img.models import build_model
from attr2img.models.config import ModelConfig

WEIGHTS, CARD = "model.safetensors", "card.json"


def save_model(out, model: torch.nn.Module, card: dict) -> None:
    """Write ``out/model.safetensors`` and ``out/card.json`` (with the model config) atomically."""
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    card = dict(card, config=model.cfg.to_dict())
    with atomic_dir(out) as tmp:
        save_file(state, str(tmp / WEIGHTS), metadata={"format": "pt"})
        write_json(tmp / CARD, card)


def read_model_card(folder) -> dict:
    path = Path(folder) / CARD
    if not path.exists():
        raise ModelError(f"no trained model at {folder} (missing {path}); run the train stage: "
                         f"attr2img train --model MODEL --data DATA --out {folder}")
    return json.loads(path.read_text())


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
    except (OSError, RuntimeError) as exc:
        raise ModelError(f"cannot load {folder}/{WEIGHTS}: {exc}") from None
    model = model.to(device).to(memory_format=torch.channels_last).eval()
    return model, card
