"""params.yaml ``inference`` and ``table2``: the evaluation sections, as typed configs.

The posterior optimiser's own keys of ``inference`` (iterations, lr, lam, init, rtol,
patience) make :class:`attr2img.inference.posterior.InferenceConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EvaluationConfig:
    """``inference``: Table 1's posterior inference (reconstruction and completion)."""

    n_test: int                 # test images (0 = the whole test split)
    batch_size: int
    iterations: int
    lr: float
    lam: float
    init: str
    rtol: float
    patience: int
    seed: int                   # bird occluder locations
    n_examples: int             # examples kept for Figure 6
    occluders: dict             # dataset -> occluder names


@dataclass(frozen=True)
class Table2Config:
    """``table2``: samples judged by the attribute regressor."""

    n_test: int
    n_samples: int
    batch_size: int
    seed: int
