"""The attribute regressor used by Table 2: a CNN shaped like the recognition model's image
stream (ImageEncoder at the configured width) and a linear layer to the A attributes.

Continuous attributes (LFW scores) are regressed with MSE; binary ones (CUB labels) are
predicted as logits with a logistic loss, and ``predict`` returns probabilities.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from attr2img.models.config import ModelConfig
from attr2img.models.nets import ImageEncoder


class AttributeRegressor(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        ch = cfg.ch
        self.features = ImageEncoder((ch(64), ch(128), ch(256), ch(256), ch(1024), ch(1024)), cfg.dropout)
        self.head = nn.Linear(self.features.out_features, cfg.n_attributes)

    @property
    def binary(self) -> bool:
        return self.cfg.attribute_kind == "binary"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Raw outputs: scores (continuous) or logits (binary)."""
        return self.head(self.features(x))

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        out = self(x).float()
        return torch.sigmoid(out) if self.binary else out

    def loss(self, x: torch.Tensor, m: torch.Tensor, y: torch.Tensor):
        out = self(x).float()
        if self.binary:
            loss = F.binary_cross_entropy_with_logits(out, y.float())
        else:
            loss = F.mse_loss(out, y.float())
        return loss, {"attr_loss": loss}
