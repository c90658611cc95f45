"""Benchmark: training throughput of each paper-width model at batch 32.

For each model: images/s of full training steps (forward, backward, Adam, augmentation on the
device), FLOPs per image (forward + backward, counted with torch.utils.flop_counter), and the
achieved FLOP/s as a fraction of the machine's best dense rate measured in the same run (the
larger of a big matrix product and a big convolution: ``reference.py``).
Targets: on the CPU, every generator at 0.6 of that rate at the default width 0.25 (issue 31;
issue 3 asked 0.8 of the matmul rate at width 1.0); on an H100, 3,000 disCVAE training images/s.
Uses synthetic batches, so it needs no prepared dataset. Each model gets ``--warmup`` untimed
steps first (oneDNN builds its kernels for each new shape during the first steps).

Levers measured here, not used by the pipeline: ``--compile`` (torch.compile of the loss),
``--optimizer foreach|fused`` (Adam's multi-tensor or fused CPU implementation instead of the
pipeline's plain one), ``--threads``. ``--cpu-precision bf16`` runs the step as the default
pipeline now does (``train.cpu_precision``: bf16 autocast on the CPU); its fraction compares
bf16 work with the fp32 reference, so it is marked as such. The default, fp32, is the target's.

    python benchmarks/train_throughput.py [--device auto|cpu|cuda] [--width 1.0] [--steps 10] [--eager] [--compile]
                                          [--optimizer plain|foreach|fused] [--cpu-precision fp32|bf16] [--threads N]
"""

from __future__ import annotations

import argparse
import platform
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from attr2img.device import autocast, configure_threads, resolve_device
from attr2img.models import ModelConfig, build_model
from attr2img.train.augment import AugmentConfig
from attr2img.train.step import TrainStep, make_optimizer
from reference import describe, reference, sync


def optimizer(kind: str, params, device):
    """The pipeline's Adam (``plain``), or a lever: the same Adam as foreach or fused (CPU)."""
    if kind == "plain" or device.type == "cuda":
        return make_optimizer(params, 3e-4, 0.004, device)
    return torch.optim.Adam(params, lr=3e-4, weight_decay=0.004, **{kind: True})


def bench(name: str, width: float, device, batch: int, steps: int, n_attr: int = 73,
          compile_loss: bool = False, cuda_graph: bool = True, opt_kind: str = "plain",
          cpu_precision: str = "fp32", warmup: int = 5) -> dict:
    """One model's training throughput; ``cpu_precision`` is the pipeline's ``train.cpu_precision``."""
    torch.manual_seed(0)
    cfg = ModelConfig(name, n_attr, width=width)
    model = build_model(cfg).to(device).to(memory_format=torch.channels_last).train()
    if compile_loss:                       # an experiment only: the pipeline trains uncompiled
        model.loss = torch.compile(model.loss)
    opt = optimizer(opt_kind, model.parameters(), device)
    x = (torch.rand(batch, 3, 64, 64, device=device) * 2 - 1).contiguous(memory_format=torch.channels_last)
    m = (torch.rand(batch, 1, 64, 64, device=device) > 0.5).float()
    y = torch.randn(batch, n_attr, device=device)
    gen = torch.Generator().manual_seed(0)
    aug = AugmentConfig()

    train_step = TrainStep(model, opt, aug, device, cuda_graph=cuda_graph and not compile_loss,
                           cpu_precision=cpu_precision)

    def step():
        train_step(x, m, y, gen)

    loss_fn = model.loss._torchdynamo_orig_callable if compile_loss else model.loss
    with FlopCounterMode(display=False) as counter:
        with autocast(device, cpu_precision):
            loss, _ = loss_fn(x, m, y)
        loss.backward()
    flops_per_image = counter.get_total_flops() / batch
    del loss                    # frees the counted step's autograd graph before a CUDA graph capture
    opt.zero_grad(set_to_none=True)
    for _ in range(warmup):
        step()
    sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    ips = steps * batch / (time.perf_counter() - t)
    return {"model": name, "images_per_s": ips, "gflop_per_image": flops_per_image / 1e9,
            "achieved_gflops": ips * flops_per_image / 1e9,
            "params_m": sum(p.numel() for p in model.parameters()) / 1e6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--models", default="vae,cvae,discvae,regressor")
    ap.add_argument("--compile", action="store_true", help="torch.compile each model's loss (experiment)")
    ap.add_argument("--eager", action="store_true", help="on CUDA, launch every step eagerly (no CUDA graph)")
    ap.add_argument("--optimizer", choices=["plain", "foreach", "fused"], default="plain",
                    help="on the CPU, Adam's implementation (the pipeline's is plain; experiment)")
    ap.add_argument("--cpu-precision", choices=["fp32", "bf16"], default="fp32",
                    help="the step's arithmetic on the CPU (params train.cpu_precision; the target is fp32's)")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0 = every core, as the pipeline)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps per model before timing")
    args = ap.parse_args()
    configure_threads(args.threads)                      # as every pipeline stage does (and keep_freed_memory)
    device = resolve_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        name = torch.cuda.get_device_name(device)
    else:
        name = f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    ref = reference(device)
    peak = ref["best"]
    print(f"device: {device} ({name}); torch {torch.__version__}; width {args.width}; batch {args.batch}"
          f"{'; torch.compile' if args.compile else ''}{'; eager' if args.eager and device.type == 'cuda' else ''}"
          f"{'; Adam ' + args.optimizer if args.optimizer != 'plain' else ''}"
          f"{'; bf16 autocast on the CPU (bf16 work against the fp32 reference)' if args.cpu_precision == 'bf16' else ''}")
    print(f"{describe(ref)} ({'fp32' if device.type == 'cpu' else 'bf16'})")
    print("| model | params (M) | GFLOP/image (fwd+bwd) | images/s | achieved GFLOP/s | fraction of reference |")
    print("|---|---|---|---|---|---|")
    for model in args.models.split(","):
        r = bench(model, args.width, device, args.batch, args.steps, compile_loss=args.compile,
                  cuda_graph=not args.eager, opt_kind=args.optimizer, cpu_precision=args.cpu_precision,
                  warmup=args.warmup)
        print(f"| {model} | {r['params_m']:.2f} | {r['gflop_per_image']:.2f} | {r['images_per_s']:.1f} | "
              f"{r['achieved_gflops']:.1f} | {r['achieved_gflops'] * 1e9 / peak:.2f} |")


if __name__ == "__main__":
    main()
