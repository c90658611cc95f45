"""Benchmark: posterior inference by optimisation (issue 4).

(a) Throughput: images/s of batched inference (the Table 1 stage's way), its FLOPs per
    iteration and image (counted with torch.utils.flop_counter) and the achieved rate as a
    fraction of the machine's best dense rate measured in the same run (the larger of a big
    matrix product and a big convolution, ``reference.py``); target (issue 12): 0.5 or more.
    The decoders' upsampling convolutions run in sub-pixel form (``UpConv2d``: 9/25 of the
    direct form's multiply-adds), so the rate is printed twice: in the FLOPs executed, and in
    the direct form's FLOPs (upsampling, then the 5x5 convolution), the same images/s counted
    against the work the network as specified does.
    One image at a time is timed beside it (the ratio is the GPU target: 20x or more).
(b) Cost: decoder evaluations needed to reach the final energy of the paper's schedule
    (prior-mean start, 1,000 Adam steps at lr 0.3) when starting from the recognition model's
    posterior mean, and what early stopping then spends; target: a tenth or fewer.

Uses a trained generator from the default pipeline (run `dvc repro` first):
    python benchmarks/posterior_inference.py --model models/synth-faces/cvae   # data: the model card's dataset
"""

from __future__ import annotations

import argparse
import copy
import platform
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from attr2img.data.loader import ProcessedDataset
from attr2img.device import keep_freed_memory, resolve_device
from attr2img.inference.posterior import InferenceConfig, infer
from attr2img.inference.posterior import energy
from attr2img.models.nets import UpConv2d
from attr2img.models.store import load_model
from reference import describe, reference


def iteration_flops(model, z, x, y, lam: float) -> float:
    """FLOPs of one iteration (the energy and its gradient), as torch's FLOP counter sees them."""
    with FlopCounterMode(display=False) as counter:
        torch.autograd.grad(energy(model, z, x, y, None, lam).sum(), z)
    return counter.get_total_flops()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/synth-faces/cvae")
    ap.add_argument("--data", default=None,
                    help="processed dataset (default: data/processed/<the model card's dataset>)")
    ap.add_argument("-n", type=int, default=32, help="test images")
    ap.add_argument("--throughput-iters", type=int, default=20)
    ap.add_argument("--paper-iters", type=int, default=1000)
    ap.add_argument("--lam", type=float, default=0.1)
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--device", default="cpu", help="auto, cpu or cuda")
    ap.add_argument("--throughput-only", action="store_true", help="(a) only: skip the 1,000-step cost comparison")
    args = ap.parse_args()
    keep_freed_memory()                                  # as every pipeline stage does
    torch.manual_seed(0)
    device = resolve_device(args.device)
    model, card = load_model(args.model, device)
    args.data = args.data or f"data/processed/{card['dataset']}"
    x, m, y = next(ProcessedDataset(args.data, "test").batches(args.n, device=device))
    where = (torch.cuda.get_device_name(device) if device.type == "cuda"
             else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads")
    print(f"machine: {where}; torch {torch.__version__}; "
          f"model {card['model']} on {card['dataset']} (width {card['config']['width']}); {len(x)} test images")

    # (a) batched: achieved rate against the machine's best dense rate; and one image at a time
    ref = reference(device)
    z = torch.zeros(len(x), model.latent_dim, device=device, requires_grad=True)
    flops_per_iter_image = iteration_flops(model, z, x, y, args.lam) / len(x)
    # the same network with its upsampling convolutions in the direct form (upsample, then 5x5)
    direct = copy.deepcopy(model)
    for layer in direct.modules():
        if isinstance(layer, UpConv2d):
            layer.subpixel = False
    direct_flops_per_iter_image = iteration_flops(direct, z, x, y, args.lam) / len(x)
    cfg = InferenceConfig(iterations=args.throughput_iters, lam=args.lam)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    infer(model, x[:2], y[:2], cfg)                      # warm-up
    sync()
    t = time.perf_counter()
    infer(model, x, y, cfg)
    sync()
    batched = len(x) / (time.perf_counter() - t)
    k = min(8, len(x))
    t = time.perf_counter()
    for i in range(k):
        infer(model, x[i:i + 1], y[i:i + 1], cfg)
    sync()
    single = k / (time.perf_counter() - t)
    achieved = batched * args.throughput_iters * flops_per_iter_image
    equivalent = batched * args.throughput_iters * direct_flops_per_iter_image
    print(f"(a) {describe(ref)}")
    print(f"    {args.throughput_iters} iterations x {flops_per_iter_image / 1e9:.3f} GFLOP per image (executed): "
          f"batched {batched:.2f} images/s = {achieved / 1e9:.1f} GFLOP/s, fraction of the reference "
          f"{achieved / ref['best']:.2f}; one at a time {single:.2f} images/s (ratio {batched / single:.1f}x)")
    print(f"    in the direct form's FLOPs ({direct_flops_per_iter_image / 1e9:.3f} GFLOP per image, upsampling then "
          f"5x5 convolution): {equivalent / 1e9:.1f} GFLOP/s equivalent, {equivalent / ref['best']:.2f} of the reference")

    if args.throughput_only:
        return
    # (b) decoder evaluations to reach the paper schedule's final energy
    paper = infer(model, x, y, InferenceConfig(iterations=args.paper_iters, lam=args.lam))
    target = paper.energy
    warm = infer(model, x, y, InferenceConfig(iterations=args.paper_iters, lam=args.lam, init="recognition"),
                 mask=m, record=True)
    reached = warm.history <= target[None]                        # (iters + 1, N)
    first = torch.where(reached.any(0), reached.float().argmax(0), torch.full_like(target, float("nan")))
    ok = ~torch.isnan(first)
    early = infer(model, x, y, InferenceConfig(iterations=args.paper_iters, lam=args.lam, init="recognition",
                                                 rtol=args.rtol, patience=args.patience), mask=m)
    print(f"(b) paper schedule: {args.paper_iters} decoder evaluations per image, mean final energy "
          f"{float(target.mean()):.1f}")
    print(f"    warm start reaches it in {int(ok.sum())}/{len(x)} images; median evaluations "
          f"{float(first[ok].median()) if ok.any() else float('nan'):.0f} "
          f"({float(first[ok].median()) / args.paper_iters if ok.any() else float('nan'):.3f} of the paper's)")
    ratio = early.energy / target
    print(f"    warm start + early stopping (rtol {args.rtol}, patience {args.patience}): mean "
          f"{float(early.evaluations.float().mean()):.0f} evaluations "
          f"({float(early.evaluations.float().mean()) / args.paper_iters:.3f} of the paper's), "
          f"final energy / paper's: median {float(ratio.median()):.3f}, max {float(ratio.max()):.3f}")


if __name__ == "__main__":
    main()
