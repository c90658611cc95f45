"""Stage ``evaluate-recon``: Table 1 cells for one generator on one dataset.

On the first ``n_test`` test images: reconstruction by posterior inference (energy over the
whole image), and completion for each occluder (energy over the observed pixels only, the
occluded pixels then filled from mu(z*, y)). Errors are per-pixel MSE with pixels on [0, 1],
times 10^3: over the whole image and over the foreground mask for reconstruction, over the
occluded pixels for completion. Each cell is the mean and standard error over the images.

Writes a metrics JSON (a DVC metric, tracked by git) and an npz (DVC-cached) with the examples
for Figure 6 and every image's errors (``per_image/<cell>``, x 10^3, in test order), which the
claims stage compares between models image by image.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from attr2img.atomic import write_json, write_npz
from attr2img.config import from_mapping
from attr2img.data.loader import ProcessedDataset
from attr2img.device import add_device_argument, configure_threads, resolve_device
from attr2img.images import to_uint8, to_unit
from attr2img.inference.config import EvaluationConfig
from attr2img.inference.occluders import occlude, occluder_masks
from attr2img.inference.posterior import InferenceConfig, infer
from attr2img.models.store import load_model
from attr2img.train.config import TrainConfig

SCALE = 1e3   # the table's unit: MSE on [0, 1] pixels x 10^3


def mean_sem(values: np.ndarray) -> dict:
    v = np.asarray(values, np.float64) * SCALE
    sem = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0
    return {"mean": round(float(v.mean()), 4), "sem": round(sem, 4)}


def evaluate(model_dir, data_dir, dataset: str, p: EvaluationConfig, out_metrics, out_examples,
             device: str = "auto", threads: int = 0, split: str = "test") -> dict:
    """Write Table 1's cells for one generator (``out_metrics``) and Figure 6's examples (``out_examples``).
    ``split``: the stage's is the test split; a probe that chooses or compares settings reads "val"."""
    device = resolve_device(device)
    configure_threads(threads)
    model, card = load_model(model_dir, device)
    cfg = from_mapping(InferenceConfig, vars(p), only_fields=True)
    test = ProcessedDataset(data_dir, split).head(p.n_test)
    tasks = ["recon", *p.occluders[dataset]]
    per_image = {}
    examples = {"ids": np.array(test.ids[:p.n_examples])}
    evaluations = {}
    t0 = time.perf_counter()
    for task in tasks:
        errs_full, errs_fg, errs_occ, evals = [], [], [], []
        occ_all = None if task == "recon" else occluder_masks(task, len(test), seed=p.seed)
        start = 0
        for x, m, y in test.batches(p.batch_size, device=device):
            n = len(x)
            if task == "recon":
                x_in, observed = x, None
            else:
                occ = occ_all[start:start + n].to(device)
                x_in, observed = occlude(x, occ), 1 - occ
            res = infer(model, x_in, y, cfg, observed=observed, mask=m)
            mu01, x01 = to_unit(res.reconstruction), to_unit(x)
            if task == "recon":
                sq = (mu01 - x01) ** 2
                errs_full.append(sq.flatten(1).mean(1).cpu())
                errs_fg.append(((sq * m).flatten(1).sum(1) / (3 * m.flatten(1).sum(1)).clamp_min(1)).cpu())
                out = res.reconstruction
            else:
                filled = torch.where(occ.bool().expand_as(x), res.reconstruction, x_in)
                sq = (to_unit(filled) - x01) ** 2
                errs_occ.append(((sq * occ).flatten(1).sum(1) / (3 * occ.flatten(1).sum(1))).cpu())
                out = filled
            evals.append(res.evaluations.cpu())
            if start < p.n_examples:
                k = p.n_examples - start
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
    # the examples for Figure 6 and every image's errors (x 10^3), for paired comparisons between models
    write_npz(out_examples, {**{k: to_uint8(torch.cat(v)) if isinstance(v, list) else v for k, v in examples.items()},
                             "per_image/ids": np.array(test.ids),
                             **{f"per_image/{k}": (v * SCALE).astype(np.float64) for k, v in per_image.items()}})
    print(f"{dataset}/{card['model']}: {len(test)} images, {len(tasks)} tasks in {time.perf_counter() - t0:.1f} s")
    return metrics


def add_arguments(p) -> None:
    p.add_argument("--dataset", required=True, help="dataset name (selects its occluders)")
    p.add_argument("--model-dir", required=True, help="trained generator, e.g. models/synth-faces/cvae")
    p.add_argument("--data", required=True, help="processed dataset directory")
    p.add_argument("--metrics", required=True, help="output metrics JSON")
    p.add_argument("--examples", required=True, help="output npz of example inputs and outputs (Figure 6)")
    add_device_argument(p)


def main(args, params: dict) -> None:
    train = from_mapping(TrainConfig, params["train"])
    m = evaluate(args.model_dir, args.data, args.dataset, from_mapping(EvaluationConfig, params["inference"]),
                 args.metrics, args.examples, device=args.device or train.device, threads=train.threads)
    print(f"wrote {args.metrics}: " + ", ".join(f"{k} {v['mean']:.2f}" for k, v in m.items()
                                                if isinstance(v, dict) and "mean" in v))
