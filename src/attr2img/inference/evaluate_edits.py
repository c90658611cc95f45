"""Stage ``evaluate-edits``: what Figures 4 and 5 show, measured over many latent draws of
the disCVAE (the model both figures draw from).

Figure 4 (attribute progression, z fixed). For each progression of :mod:`attr2img.edits` and
each of ``n_draws`` latent draws z, the generator decodes the ``steps`` vectors of the row and
the attribute regressor reads them. In units of each attribute's training standard deviation:

- ``on``: how far the moved attributes' predictions travel from the first to the last step,
  in the direction they were moved (mean over the moved attributes);
- ``off``: how far the other attributes' predictions travel, in either direction (mean of the
  absolute change over the other attributes);
- ``spearman``: the rank correlation between the step and the moved attributes' mean
  prediction (signed by direction), averaged over the draws first: the row's trend;
- ``judge_on_real``: how well the judge reads the moved attributes on the real test images
  (mean over them of the AUC for binary attributes, else Pearson's r; None where none of them
  varies in the test split): whether a row that does not move fails in the samples or in the judge.

Figure 5 (the disCVAE's layers). For each of ``n_draws`` base draws (z_F, z_B, y from the test
set), ``n_vary`` images vary z_B with z_F and y fixed, and ``n_vary`` vary z_F with z_B and y
fixed. A pixel's change is its standard deviation over the varied images (mean over
channels); ``inside`` and ``outside`` are the mean change weighted by the mean gate's
foreground (1 − g) and background (g) visibility.

Writes the per-draw values to an npz (DVC-cached: the claims stage and later analyses read
it) and a summary to a metrics JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import spearmanr

from attr2img.atomic import write_json, write_npz
from attr2img.config import from_mapping
from attr2img.data.loader import ProcessedDataset
from attr2img.device import add_device_argument, configure_threads, resolve_device
from attr2img.edits import base_vector, direction, progression_vectors, progressions_for, training_ranges
from attr2img.images import unit
from attr2img.inference.evaluate_attributes import predict
from attr2img.models.store import load_model
from attr2img.scores import column_agreement, finite_mean, others_over_moved
from attr2img.train.config import TrainConfig


@dataclass(frozen=True)
class EditsConfig:
    """params.yaml ``edits``: how many latent draws measure Figures 4 and 5."""

    n_draws: int                # latent draws per progression (Figure 4) and base draws (Figure 5)
    steps: int                  # attribute values along a progression
    n_vary: int                 # varied latents per base draw (Figure 5)
    seed: int


def row_key(label: str) -> str:
    """A progression's label as an npz / JSON key: "gender: female → male" -> "gender_female_to_male"."""
    text = label.replace("→", "to").replace(":", " ")
    return "_".join(text.split())


@torch.no_grad()
def progression_measures(model, regressor, train: ProcessedDataset, test: ProcessedDataset, cfg: EditsConfig,
                         device) -> dict:
    """Per progression: arrays ``on`` and ``off`` (one value per latent draw), the trend's
    ``spearman`` and ``judge_on_real``."""
    names = train.attribute_names
    read = column_agreement(predict(regressor, test.tensors(device)[0]).cpu(), test.attributes,
                            test.attribute_kind == "binary")
    ya = train.attributes
    lo, hi, std = training_ranges(ya)
    base = base_vector(ya, train.attribute_kind)
    gen = torch.Generator().manual_seed(cfg.seed)
    out = {}
    for label, spec in progressions_for(names):
        ys = progression_vectors(base, names, spec, lo, hi, cfg.steps).to(device)
        sign = direction(names, spec, lo, hi, base)
        moved = sign != 0
        z = torch.randn(cfg.n_draws, model.latent_dim, generator=gen).to(device)
        zz = z[:, None].expand(-1, cfg.steps, -1).reshape(-1, model.latent_dim)
        images = model.decode(zz, ys.repeat(cfg.n_draws, 1)).float().clamp(-1, 1)
        pred = predict(regressor, images).cpu().view(cfg.n_draws, cfg.steps, -1) / std   # in training stds
        change = pred[:, -1] - pred[:, 0]
        on = (change[:, moved] * sign[moved]).mean(1)
        off = change[:, ~moved].abs().mean(1)
        trend = (pred[:, :, moved] * sign[moved]).mean(2).mean(0)                   # (steps,)
        # a constant trend has no rank correlation: 0, i.e. not monotonic (scipy would warn and give NaN)
        rho = spearmanr(np.arange(cfg.steps), trend.numpy()).statistic if trend.unique().numel() > 1 else 0.0
        out[row_key(label)] = {"label": label, "on": on.double().numpy(), "off": off.double().numpy(),
                               "spearman": float(np.nan_to_num(rho)),
                               "judge_on_real": finite_mean(read[moved.numpy()])}
    return out


def varied_layers(model, zf: torch.Tensor, zb: torch.Tensor, y: torch.Tensor, n: int, k: int):
    """Decode n bases x k variations (rows grouped by base): each pixel's change across a base's
    variations, mean over colour channels (n, H, W), and the gate of every variation (n, k, H, W)."""
    layers = model.decode_layers(zf, zb, y)
    x = unit(layers["x"].float()).cpu().view(n, k, *layers["x"].shape[1:])
    gates = layers["gate"].float().cpu().view(n, k, *layers["gate"].shape[1:])[:, :, 0]
    return x.std(1).mean(1), gates


def weighted_mean(change: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Per base: the mean of ``change`` over the pixels, weighted by ``weight`` (both (n, H, W))."""
    return (change * weight).flatten(1).sum(1) / weight.flatten(1).sum(1).clamp_min(1e-6)


@torch.no_grad()
def layer_measures(model, test: ProcessedDataset, cfg: EditsConfig, device) -> dict:
    """For varying z_B and varying z_F: arrays ``inside`` and ``outside`` (one per base draw)."""
    zf_dim, zb_dim = model.cfg.latent.z_fg, model.cfg.latent.z_bg
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    idx = torch.randint(len(test), (cfg.n_draws,), generator=gen)
    n, k = cfg.n_draws, cfg.n_vary
    y = test.attributes[idx].repeat_interleave(k, 0).to(device)
    zf0 = torch.randn(n, 1, zf_dim, generator=gen).expand(-1, k, -1).reshape(n * k, zf_dim).to(device)
    zb0 = torch.randn(n, 1, zb_dim, generator=gen).expand(-1, k, -1).reshape(n * k, zb_dim).to(device)
    out = {}
    for name, zf, zb in (("vary_zb", zf0, torch.randn(n * k, zb_dim, generator=gen).to(device)),
                         ("vary_zf", torch.randn(n * k, zf_dim, generator=gen).to(device), zb0)):
        change, gates = varied_layers(model, zf, zb, y, n, k)
        g = gates.mean(1)                                    # the gate is the background's visibility
        out[name] = {"inside": weighted_mean(change, 1.0 - g).double().numpy(),
                     "outside": weighted_mean(change, g).double().numpy()}
    return out


def evaluate(data_dir, regressor_dir, discvae_dir, cfg: EditsConfig, out_npz, out_metrics,
             device: str = "auto", threads: int = 0) -> dict:
    device = resolve_device(device)
    configure_threads(threads)
    regressor, _ = load_model(regressor_dir, device)
    discvae, card = load_model(discvae_dir, device)
    train, test = ProcessedDataset(data_dir, "train"), ProcessedDataset(data_dir, "test")
    rows = progression_measures(discvae, regressor, train, test, cfg, device)
    layers = layer_measures(discvae, test, cfg, device)
    arrays, metrics = {}, {"figure4": {"model": card["model"]}, "figure5": {}}
    for key, r in rows.items():
        judge = r["judge_on_real"]
        arrays[f"figure4/{key}/on"], arrays[f"figure4/{key}/off"] = r["on"], r["off"]
        arrays[f"figure4/{key}/spearman"] = np.array(r["spearman"])
        metrics["figure4"][key] = {"label": r["label"], "spearman": round(r["spearman"], 4),
                                   "on": round(float(r["on"].mean()), 4), "off": round(float(r["off"].mean()), 4),
                                   "off_over_on": others_over_moved(r["on"], r["off"]),
                                   "judge_on_real": None if judge is None else round(judge, 4)}
    for key, r in layers.items():
        arrays[f"figure5/{key}/inside"], arrays[f"figure5/{key}/outside"] = r["inside"], r["outside"]
        metrics["figure5"][key] = {"inside": round(float(r["inside"].mean()), 5),
                                   "outside": round(float(r["outside"].mean()), 5),
                                   "inside_over_outside": round(float(r["inside"].mean() / max(r["outside"].mean(), 1e-12)), 4)}
    metrics["n_draws"] = cfg.n_draws
    write_npz(out_npz, arrays)
    write_json(out_metrics, metrics)
    return metrics


def add_arguments(p) -> None:
    p.add_argument("--dataset", required=True)
    p.add_argument("--data", required=True, help="processed dataset directory")
    p.add_argument("--regressor", required=True, help="trained attribute regressor (the judge)")
    p.add_argument("--discvae", required=True, help="the trained disCVAE (what Figures 4 and 5 draw from)")
    p.add_argument("--out", required=True, help="output npz of the per-draw measures (DVC-cached), "
                                                "e.g. results/inference/synth-faces/edits.npz")
    p.add_argument("--metrics", required=True, help="output metrics JSON")
    add_device_argument(p)


def main(args, params: dict) -> None:
    train = from_mapping(TrainConfig, params["train"])
    m = evaluate(args.data, args.regressor, args.discvae, from_mapping(EditsConfig, params["edits"]),
                 args.out, args.metrics, device=args.device or train.device, threads=train.threads)
    print(f"wrote {args.out} and {args.metrics}: Figure 4 Spearman "
          + ", ".join(f"{k} {v['spearman']:.2f}" for k, v in m["figure4"].items() if isinstance(v, dict))
          + "; Figure 5 inside/outside " + ", ".join(f"{k} {v['inside_over_outside']:.2f}"
                                                     for k, v in m["figure5"].items()))
