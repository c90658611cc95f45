"""Stage ``evaluate-attributes``: Table 2 for one dataset (paper section 5.1).

For every test attribute vector y (the first ``n_test``), each generator draws ``n_samples``
images; the attribute regressor predicts their attributes, and the best of the samples by
cosine similarity to y is kept. Reported: cosine similarity and MSE to y, mean and standard
error over the test vectors, for each generator and for two baselines: NN (the training image
whose attributes are nearest to y by MSE) and NNblur (that image through a 5x5 mean filter).
``validation`` repeats the generators' rows on validation attribute vectors, for recipe
selection. The regressor's own accuracy on all the real test images is a reference row (with the mean
per-attribute AUC for binary attributes), and for a synthetic dataset so is its noise ceiling:
the noise-free attributes scored against the noisy labels, the best any regressor can reach.

Binary attributes (birds) are compared as the regressor's probabilities against the 0/1 labels.
"""

from __future__ import annotations

import numpy as np
import torch

from attr2img.atomic import write_json, write_npz
from attr2img.catalog import CONDITIONAL
from attr2img.config import from_mapping
from attr2img.data.loader import ProcessedDataset
from attr2img.device import add_device_argument, configure_threads, resolve_device
from attr2img.images import to_model_space
from attr2img.inference.config import Table2Config
from attr2img.models.store import load_model
from attr2img.train.config import TrainConfig
from attr2img.ops import box_filter
from attr2img.scores import agreement, cosine, mean_sem, mse


def summary(cos: torch.Tensor, err: torch.Tensor) -> dict:
    return {"cosine": mean_sem(cos), "mse": mean_sem(err)}


@torch.no_grad()
def nearest_training(y: torch.Tensor, train_y: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """For each query attribute vector, the index of the training vector nearest to it (the NN
    baseline's choice: smallest distance, the same order as MSE), ``chunk`` queries at a time."""
    return torch.cat([torch.cdist(y[i:i + chunk], train_y).argmin(1) for i in range(0, len(y), chunk)])


@torch.no_grad()
def predict(regressor, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
    return torch.cat([regressor.predict(x[i:i + batch].contiguous(memory_format=torch.channels_last)).float()
                      for i in range(0, len(x), batch)])


def best_of_samples(model, regressor, y: torch.Tensor, p: Table2Config, gen: torch.Generator):
    """For each attribute vector, the cosine and MSE of the best of ``n_samples`` samples (by cosine)."""
    best_cos, best_mse = [], []
    for i in range(0, len(y), p.batch_size):
        yb = y[i:i + p.batch_size]
        samples = model.generate(yb, n=p.n_samples, generator=gen).float().clamp(-1, 1)
        pr = predict(regressor, samples).view(len(yb), p.n_samples, -1)
        c = cosine(pr, yb[:, None, :])
        best = c.argmax(1)
        best_cos.append(c.gather(1, best[:, None])[:, 0])
        best_mse.append(mse(pr, yb[:, None, :]).gather(1, best[:, None])[:, 0])
    return torch.cat(best_cos).cpu(), torch.cat(best_mse).cpu()


def evaluate(model_dirs: dict, data_dir, p: Table2Config, out_metrics, out_per_vector=None, device: str = "auto",
             threads: int = 0) -> dict:
    """``model_dirs``: {"regressor": dir, "cvae": dir, "discvae": dir, ...}; the generators are
    every entry except the regressor. ``out_per_vector`` (an npz): each method's cosine and MSE
    for every test vector, in test order, for paired comparisons between methods."""
    device = resolve_device(device)
    configure_threads(threads)
    regressor, _ = load_model(model_dirs["regressor"], device)
    full_test = ProcessedDataset(data_dir, "test")
    results, binary = {}, full_test.attribute_kind == "binary"

    # the judge's own accuracy on every real test image, beside the best any judge could reach
    pred = predict(regressor, full_test.tensors(device)[0])
    results["regressor_on_test_images"] = agreement(pred.cpu(), full_test.attributes, binary)
    if "noise_ceiling" in full_test.card:
        results["noise_ceiling"] = full_test.card["noise_ceiling"]

    test = full_test.head(p.n_test)
    y = test.attributes.to(device)
    per_vector = {"ids": np.array(test.ids)}

    train = ProcessedDataset(data_dir, "train")
    ty = train.attributes.to(device)
    nn_idx = nearest_training(y, ty)
    # how close the nearest training image's own labels are to the query: when this is within the
    # label noise, NN is an oracle for the query's attributes and sets a ceiling no sampler beats
    results["NN_label_distance"] = {"mse": mean_sem(mse(ty[nn_idx], y).cpu())}
    x_nn, _ = to_model_space(train.images[nn_idx.cpu()].to(device), train.masks[nn_idx.cpu()].to(device))
    for name, images in (("NN", x_nn), ("NNblur", box_filter(x_nn, 5))):
        pr = predict(regressor, images)
        results[name] = summary(cosine(pr, y), mse(pr, y))
        per_vector[f"{name}/cosine"], per_vector[f"{name}/mse"] = cosine(pr, y).cpu(), mse(pr, y).cpu()

    gen = torch.Generator().manual_seed(p.seed)
    val_y = ProcessedDataset(data_dir, "val").head(p.n_test).attributes.to(device)
    results["validation"] = {}
    for name, folder in model_dirs.items():
        if name == "regressor":
            continue
        model, _ = load_model(folder, device)
        best_cos, best_mse = best_of_samples(model, regressor, y, p, gen)
        results[name] = summary(best_cos, best_mse)
        per_vector[f"{name}/cosine"], per_vector[f"{name}/mse"] = best_cos, best_mse
        # the same on validation vectors: what a recipe sweep may select on (the test split chooses nothing)
        results["validation"][name] = summary(*best_of_samples(model, regressor, val_y, p,
                                                               torch.Generator().manual_seed(p.seed + 1)))
    results["n_test"] = len(y)
    results["n_samples"] = p.n_samples
    write_json(out_metrics, results)
    if out_per_vector is not None:
        write_npz(out_per_vector, {k: v.double().numpy() if isinstance(v, torch.Tensor) else v
                                   for k, v in per_vector.items()})
    return results


def add_arguments(p) -> None:
    p.add_argument("--dataset", required=True)
    p.add_argument("--data", required=True, help="processed dataset directory")
    p.add_argument("--regressor", required=True, help="trained attribute regressor")
    for name in CONDITIONAL:
        p.add_argument(f"--{name}", required=True, help=f"trained {name}")
    p.add_argument("--metrics", required=True, help="output metrics JSON")
    p.add_argument("--per-vector", help="output npz of every test vector's scores per method (DVC-cached), "
                                        "e.g. results/inference/synth-faces/table2.npz")
    add_device_argument(p)


def main(args, params: dict) -> None:
    dirs = {name: getattr(args, name) for name in ("regressor", *CONDITIONAL)}
    train = from_mapping(TrainConfig, params["train"])
    r = evaluate(dirs, args.data, from_mapping(Table2Config, params["table2"]), args.metrics, args.per_vector,
                 device=args.device or train.device, threads=train.threads)
    print(f"wrote {args.metrics}: " + ", ".join(f"{k} cos {v['cosine']['mean']:.3f}" for k, v in r.items()
                                                if isinstance(v, dict) and "cosine" in v))
