"""Posterior inference by optimisation (Yan et al. 2016, section 4, eq. 9-10).

For a trained generator mu(z, y) and an image x with attributes y, find

    z* = argmin_z  sum over observed pixels of (mu(z, y) - x)^2  +  lam * ||z||^2

with Adam (the paper: lr 0.3, 1,000 iterations). For the disCVAE z = [z_F, z_B].

The optimisation is batched: each image has its own z, its own energy and its own Adam
state (a per-image Adam written out here, so that an image can stop early without its
neighbours), and the decoder runs only on the images still being optimised. Batch norm is
in evaluation mode (folded into the convolutions), so an image's result does not depend on the
others in its batch.

Beyond the paper: a warm start from the recognition model's posterior mean
(``init="recognition"``), and early stopping when an image's relative energy change stays
below ``rtol`` for ``patience`` iterations. ``evaluations`` counts, per image, the decoder
evaluations it used.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from attr2img.device import autocast
from attr2img.ops import fold_batchnorm


@dataclass(frozen=True)
class InferenceConfig:
    iterations: int = 1000
    lr: float = 0.3
    lam: float = 0.1              # weight of ||z||^2 (the paper does not give its value)
    init: str = "prior_mean"      # prior_mean (z = 0) | recognition (posterior mean of the encoder)
    rtol: float = 0.0             # early stopping on the relative energy change (0 = off)
    patience: int = 10
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8


@dataclass
class InferenceResult:
    z: torch.Tensor               # (N, latent_dim)
    energy: torch.Tensor          # (N,) final energy
    evaluations: torch.Tensor     # (N,) decoder evaluations used
    reconstruction: torch.Tensor  # (N, 3, H, W) mu(z*, y) in [-1, 1]
    history: torch.Tensor | None = None   # (iterations + 1, N) energies, when recorded


def energy(model, z, x, y, observed, lam: float) -> torch.Tensor:
    """Per-image energy: squared error over observed pixels + lam * ||z||^2; shape (N,)."""
    with autocast(x.device):
        mu = model.decode(z, y)
    err = (mu.float() - x) ** 2
    if observed is not None:
        err = err * observed
    return err.flatten(1).sum(1) + lam * z.pow(2).sum(1)


@torch.no_grad()
def initial_z(model, x, y, observed, init: str, mask=None) -> torch.Tensor:
    if init == "prior_mean":
        return torch.zeros(len(x), model.latent_dim, device=x.device)
    x_in = x if observed is None else x * observed + (observed - 1)     # occluded pixels at 0 on [0, 1]
    return model.posterior_mean(x_in, y, mask)


def infer(model, x: torch.Tensor, y: torch.Tensor, cfg: InferenceConfig, observed: torch.Tensor | None = None,
          mask: torch.Tensor | None = None, record: bool = False) -> InferenceResult:
    """Optimise one z per image. ``observed`` (N, 1, H, W) is 1 on the pixels the energy sees."""
    model.eval()
    # batch norm folded into the convolutions: the same function, without the backward pass of
    # an evaluation-mode batch norm at every step; gradients flow to z only
    return _optimise(fold_batchnorm(model), x, y, cfg, observed, mask, record)


def _optimise(model, x, y, cfg: InferenceConfig, observed, mask, record: bool) -> InferenceResult:
    n = len(x)
    z = initial_z(model, x, y, observed, cfg.init, mask).float()
    m1, m2 = torch.zeros_like(z), torch.zeros_like(z)
    steps = torch.zeros(n, device=x.device)
    active = torch.ones(n, dtype=torch.bool, device=x.device)
    calm = torch.zeros(n, dtype=torch.long, device=x.device)
    evals = torch.zeros(n, dtype=torch.long, device=x.device)
    with torch.no_grad():
        e_prev = energy(model, z, x, y, observed, cfg.lam)
    history = [e_prev.clone()] if record else None
    b1, b2 = cfg.betas
    for _ in range(cfg.iterations):
        idx = active.nonzero().squeeze(1)
        if len(idx) == 0:
            break
        z_a = z[idx].clone().requires_grad_(True)
        obs = None if observed is None else observed[idx]
        e = energy(model, z_a, x[idx], y[idx], obs, cfg.lam)
        (g,) = torch.autograd.grad(e.sum(), z_a)          # per-image gradients (energies are independent)
        evals[idx] += 1
        with torch.no_grad():
            steps[idx] += 1
            m1[idx] = b1 * m1[idx] + (1 - b1) * g
            m2[idx] = b2 * m2[idx] + (1 - b2) * g * g
            t = steps[idx, None]
            update = cfg.lr * (m1[idx] / (1 - b1 ** t)) / ((m2[idx] / (1 - b2 ** t)).sqrt() + cfg.eps)
            z[idx] = z_a.detach() - update
            # energy before this step is e; its relative change drives early stopping
            e = e.detach()
            if cfg.rtol > 0:
                rel = (e_prev[idx] - e).abs() / e_prev[idx].abs().clamp_min(1e-12)
                calm[idx] = torch.where(rel < cfg.rtol, calm[idx] + 1, torch.zeros_like(calm[idx]))
                active[idx] = calm[idx] < cfg.patience
            e_prev[idx] = e
            if record:
                history.append(e_prev.clone())
    with torch.no_grad():
        final = energy(model, z, x, y, observed, cfg.lam)
        with autocast(x.device):
            recon = model.decode(z, y).float()
    return InferenceResult(z, final, evals, recon, torch.stack(history) if record else None)
