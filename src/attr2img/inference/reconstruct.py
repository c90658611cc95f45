"""Stage ``evaluate-recon``: Table 1 cells for one generator on one dataset.

On the first ``n_test`` test images: reconstruction by posterior inference (energy over the
whole image), and completion for each occluder (energy over the observed pixels only, the
occluded pixels then filled from mu(z*, y)). Errors are per-pixel MSE with pixels on [0, 1],
times 10^3: over the whole image and over the foreground mask for reconstruction, over the
occluded pixels for completion. Each cell is the mean and standard error over the images.

Writes a metrics JSON (a DVC metric, tracked by git) and an npz of examples for Figure 6.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from attr2img.atomic import atomic_path, write_json
from attr2img.data.loader import ProcessedDataset
from attr2img.device import configure_threads, resolve_device
from attr2img.inference.occluders import occlude, occluder_masks
from attr2img.inference.posterior import InferenceConfig, infer
from attr2img.models.store import load_model

SCALE = 1e3   # the table's unit: MSE on [0, 1] pixels x 10^3


def inference_config(p: dict) -> InferenceConfig:
    return InferenceConfig(iterations=p["iterations"], lr=p["lr"], lam=p["lam"], init=p["init"],
                           rtol=p["rtol"], patience=p["patience"])


def mean_sem(values: np.ndarray) -> dict:
    v = np.asarray(values, np.float64) * SCALE
    sem = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0
    return {"mean": round(float(v.mean()), 4), "sem": round(sem, 4)}


def _to01(x: torch.Tensor) -> torch.Tensor:
    return (x.float() + 1) / 2


def run(model_dir, data_dir, dataset: str, params: dict, out_metrics, out_examples, device_pref=None) -> dict:
    p = params["inference"]
    device = resolve_device(device_pref or params["train"]["device"])
    configure_threads(params["train"]["threads"])
    model, card = load_model(model_dir, device)
    cfg = inference_config(p)
    test = ProcessedDataset(data_dir, "test").head(p["n_test"])
    tasks = ["recon"] + list(p["occluders"][dataset])
    per_image = {}
    examples = {"ids": np.array(test.ids[:p["n_examples"]])}
    evaluations = {}
    t0 = time.perf_counter()
    for task in tasks:
        errs_full, errs_fg, errs_occ, evals = [], [], [], []
        occ_all = None if task == "recon" else occluder_masks(task, len(test), seed=p["seed"])
        start = 0
        for x, m, y in test.batches(p["batch_size"], device=device):
            n = len(x)
            if task == "recon":
                x_in, observed = x, None
            else:
                occ = occ_all[start:start + n].to(device)
                x_in, observed = occlude(x, occ), 1 - occ
            res = infer(model, x_in, y, cfg, observed=observed, mask=m)
            mu01, x01 = _to01(res.reconstruction), _to01(x)
            if task == "recon":
                sq = (mu01 - x01) ** 2
                errs_full.append(sq.flatten(1).mean(1).cpu())
                errs_fg.append(((sq * m).flatten(1).sum(1) / (3 * m.flatten(1).sum(1)).clamp_min(1)).cpu())
                out = res.reconstruction
            else:
                filled = torch.where(occ.bool().expand_as(x), res.reconstruction, x_in)
                sq = (_to01(filled) - x01) ** 2
                errs_occ.append(((sq * occ).flatten(1).sum(1) / (3 * occ.flatten(1).sum(1))).cpu())
                out = filled
            evals.append(res.evaluations.cpu())
            if start < p["n_examples"]:
                k = p["n_examples"] - start
                examples.setdefault(f"{task}/input", []).append(x_in[:k].cpu())
                examples.setdefault(f"{task}/output", []).append(out[:k].float().cpu())
            start += n
        if task == "recon":
            per_image["recon_full"] = torch.cat(errs_full).numpy()
            per_image["recon_fg"] = torch.cat(errs_fg).numpy()
        else:
            per_image[f"complete_{task}"] = torch.cat(errs_occ).numpy()
        evaluations[task] = float(torch.cat(evals).float().mean())
    metrics = {name: mean_sem(v) for name, v in per_image.items()}
    metrics["n_images"] = len(test)
    metrics["decoder_evaluations"] = {k: round(v, 1) for k, v in evaluations.items()}
    write_json(out_metrics, metrics)
    arrays = {k: (torch.cat(v) if isinstance(v, list) else v) for k, v in examples.items()}
    arrays = {k: (((v.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
                  if isinstance(v, torch.Tensor) else v) for k, v in arrays.items()}
    with atomic_path(out_examples) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    print(f"{dataset}/{card['model']}: {len(test)} images, {len(tasks)} tasks in {time.perf_counter() - t0:.1f} s")
    return metrics
