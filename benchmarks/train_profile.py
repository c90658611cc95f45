"""Benchmark: where a default-width training step spends its time (torch.profiler, CPU).

For each of VAE, CVAE and disCVAE (params.yaml's ``model`` and ``train`` sections) and both
judges (its ``regressor`` section: synth-faces' one network, synth-birds' three), on random
batches of the dataset's shapes, the step is split into its phases as the training loop runs
them (``TrainStep``): batch conversion from the uint8 store ("data"), augmentation, forward
(the loss), backward, optimizer. Every operator's own (self) CPU time is charged to its phase
and to a kind of operator: convolution, batch norm, pooling, linear, the likelihood and KL terms,
elementwise, layout (copies, cat, views) and the rest. The profiler adds a few microseconds to
every operator, so the phases' shares are read with that in mind; the wall time per step is
measured without it first. The step runs in the arithmetic params.yaml gives each model
(``train.cpu_precision`` for the generators, ``regressor.cpu_precision`` for the judges) unless
``--cpu-precision`` names one for all. ``--layers`` also times each convolution of the model alone (forward
and backward at its input's shape in the step) and prints its FLOP rate.

    python benchmarks/train_profile.py [--models vae,cvae,discvae,faces-judge,birds-judge] [--steps 20] [--top 8] [--layers]
                                       [--cpu-precision params|fp32|bf16]
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import time
from collections import defaultdict
from pathlib import Path

import torch
import yaml
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function
from torch.utils.flop_counter import FlopCounterMode

from attr2img.data.synth import birds, faces
from attr2img.device import autocast, configure_threads
from attr2img.images import to_model_space
from attr2img.models import ModelConfig, build_model
from attr2img.models import cvae as cvae_mod, discvae as discvae_mod
from attr2img.train import augment as aug_mod
from attr2img.train.augment import AugmentConfig
from attr2img.train.loop import recipe
from attr2img.train.step import make_optimizer

PARAMS = Path(__file__).resolve().parent.parent / "params.yaml"
PHASES = ("data", "augment", "forward", "backward", "optimizer")
# (kind, substrings of the aten operator name), first match wins
KINDS = (
    ("likelihood+KL", ("smooth_l1", "binary_cross_entropy", "mse_loss", "loss terms")),
    ("convolution", ("convolution", "mkldnn_conv", "conv2d")),
    ("batch norm", ("batch_norm",)),
    ("pooling", ("max_pool", "avg_pool", "grid_sampler", "affine_grid")),
    ("linear", ("addmm", "aten::mm", "aten::bmm", "linear")),
    ("layout", ("copy", "clone", "contiguous", "cat", "permute", "reshape", "view", "empty", "to", "flip",
                "split", "stack", "expand", "slice", "select", "index", "zero", "fill", "t", "as_strided")),
)
# everything else is elementwise arithmetic (add, mul, relu, tanh, where, clamp, exp, ...)
JUDGES = {"faces-judge": ("synth-faces", faces.ATTRIBUTES, "continuous"),
          "birds-judge": ("synth-birds", birds.ATTRIBUTES, "binary")}


def kind_of(name: str) -> str:
    op = name.split("::")[-1]
    for kind, keys in KINDS:
        if any(k == op or (len(k) > 2 and k in name) for k in keys):
            return kind
    return "elementwise"


def setup(which: str, params: dict):
    """(model, optimizer, augmentation, batch size, dataset store, CPU precision) for one profiled model."""
    if which in JUDGES:
        dataset, names, kind = JUDGES[which]
        model_name = "regressor"
    else:
        dataset, names, kind, model_name = "synth-faces", faces.ATTRIBUTES, "continuous", which
    train, section = recipe(params, model_name)
    cfg = ModelConfig.from_params(section, model=model_name, dataset=dataset, attribute_names=names,
                                  attribute_kind=kind, image_size=64)
    torch.manual_seed(0)
    model = build_model(cfg).to(memory_format=torch.channels_last).train()
    opt = make_optimizer(model.parameters(), train["lr"], train["weight_decay"], torch.device("cpu"))
    aug = AugmentConfig(**train["augment"][dataset])
    n = 1024
    store = (torch.randint(0, 256, (n, 64, 64, 3), dtype=torch.uint8),
             (torch.rand(n, 64, 64) > 0.5).to(torch.uint8) * 255,
             torch.rand(n, len(names)).round() if kind == "binary" else torch.randn(n, len(names)))
    return model, opt, aug, int(train["batch_size"]), store, train["cpu_precision"]


@contextlib.contextmanager
def labelled_loss_terms():
    """Label the generators' likelihood and KL terms (forward) in the profile."""
    saved = {}
    for mod in (cvae_mod, discvae_mod):
        for fn in ("recon_loss", "kl_to_standard_normal"):
            saved[mod, fn] = orig = getattr(mod, fn)

            def wrapped(*a, _orig=orig, **k):
                with record_function("loss terms"):
                    return _orig(*a, **k)
            setattr(mod, fn, wrapped)
    try:
        yield
    finally:
        for (mod, fn), orig in saved.items():
            setattr(mod, fn, orig)


def make_step(model, opt, aug, batch, store, gen, precision):
    images, masks, attrs = store

    def step():
        with record_function("data"):
            idx = torch.randint(0, len(images), (batch,), generator=gen)
            x, m = to_model_space(images[idx], masks[idx])
            y = attrs[idx]
        with record_function("augment"):
            x, m = aug_mod.apply(x, m, aug, aug_mod.draws(batch, gen))
        with record_function("forward"), autocast(torch.device("cpu"), precision):
            loss, _ = model.loss(x, m, y)
        with record_function("backward"):
            opt.zero_grad(set_to_none=True)
            loss.backward()
        with record_function("optimizer"):
            opt.step()
    return step


def phase_of(event) -> str | None:
    e = event
    while e is not None:
        if e.name in PHASES:
            return e.name
        e = e.cpu_parent
    return None


def run(which: str, params: dict, steps: int, top: int, precision: str) -> None:
    model, opt, aug, batch, store, own = setup(which, params)
    precision = own if precision == "params" else precision
    gen = torch.Generator().manual_seed(0)
    step = make_step(model, opt, aug, batch, store, gen, precision)
    for _ in range(3):
        step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    wall = (time.perf_counter() - t) / steps * 1e3
    with labelled_loss_terms(), profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    table = defaultdict(float)            # (phase, kind) -> self µs
    ops = defaultdict(float)
    for e in prof.events():
        phase = phase_of(e)
        if phase is None or e.name in PHASES:
            continue
        parent = e.cpu_parent
        kind = "likelihood+KL" if any(p == "loss terms" for p in _ancestors(parent)) else kind_of(e.name)
        table[phase, kind] += e.self_cpu_time_total
        ops[e.name] += e.self_cpu_time_total
    total = sum(table.values())
    kinds = [k for k, _ in KINDS] + ["elementwise"]
    print(f"\n### {which} ({precision}, batch {batch}; {wall:.1f} ms per step without the profiler, "
          f"{total / steps / 1e3:.1f} ms of operator time with it)\n")
    print("| phase | share | " + " | ".join(kinds) + " |")
    print("|---|---|" + "---|" * len(kinds))
    for phase in PHASES:
        row = [table[phase, k] / total for k in kinds]
        print(f"| {phase} | {sum(row):.1%} | " + " | ".join(f"{v:.1%}" if v >= 0.0005 else "" for v in row) + " |")
    col = [sum(table[p, k] for p in PHASES) / total for k in kinds]
    print(f"| **all** | 100% | " + " | ".join(f"**{v:.1%}**" for v in col) + " |")
    print(f"\ntop {top} operators by self time: " + ", ".join(
        f"{name.split('::')[-1]} {t / total:.1%}" for name, t in sorted(ops.items(), key=lambda kv: -kv[1])[:top]))


def conv_layers(which: str, params: dict) -> None:
    """Each convolution alone: forward + backward at the shape it sees in the step, and its rate."""
    model, opt, aug, batch, (images, masks, attrs), _ = setup(which, params)
    seen = {}
    hooks = [mod.register_forward_hook(lambda m, i, o, name=name: seen.setdefault(name, (m, i[0].shape)) and None)
             for name, mod in model.named_modules() if isinstance(mod, nn.Conv2d)]
    x, m = to_model_space(images[:batch], masks[:batch])
    model.loss(x, m, attrs[:batch])
    for h in hooks:
        h.remove()
    print(f"\n{which}: each convolution alone, forward + backward at batch {batch}, fp32\n")
    print("| layer | input | out channels, kernel | ms | GFLOP/s |")
    print("|---|---|---|---|---|")
    total_t = total_f = 0.0
    for name, (conv, shape) in seen.items():
        first = conv.in_channels == 3 and shape[1] == 3          # the image itself needs no gradient
        inp = torch.randn(shape).contiguous(memory_format=torch.channels_last).requires_grad_(not first)

        def run():
            out = conv(inp)
            out.backward(torch.ones_like(out))
        with FlopCounterMode(display=False) as counter:
            run()
        flops = counter.get_total_flops()
        for _ in range(3):
            run()
        reps, t = 0, time.perf_counter()
        while time.perf_counter() - t < 0.5:
            run()
            reps += 1
        dt = (time.perf_counter() - t) / reps
        total_t, total_f = total_t + dt, total_f + flops
        print(f"| {name} | {tuple(shape[1:])} | {conv.out_channels}, {conv.kernel_size[0]}x{conv.kernel_size[1]} | "
              f"{dt * 1e3:.2f} | {flops / dt / 1e9:.0f} |")
    print(f"| **all** | | | **{total_t * 1e3:.1f}** | **{total_f / total_t / 1e9:.0f}** |")


def _ancestors(e):
    while e is not None:
        yield e.name
        e = e.cpu_parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="vae,cvae,discvae,faces-judge,birds-judge")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--params", default=str(PARAMS))
    ap.add_argument("--layers", action="store_true", help="also time each convolution alone (fp32)")
    ap.add_argument("--cpu-precision", choices=["params", "fp32", "bf16"], default="params",
                    help="the step's arithmetic (params: what params.yaml gives each model)")
    args = ap.parse_args()
    params = yaml.safe_load(Path(args.params).read_text())
    threads = configure_threads(params["train"]["threads"])
    print(f"device: cpu ({platform.processor() or platform.machine()}, {threads} threads); torch {torch.__version__}; "
          f"width {params['model']['width']} (generators), {params['regressor']['width']} (judges)")
    for which in args.models.split(","):
        run(which, params, args.steps, args.top, args.cpu_precision)
        if args.layers:
            conv_layers(which, params)


if __name__ == "__main__":
    main()
