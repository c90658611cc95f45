"""One training step — augment, loss, backward, Adam — run eagerly or replayed as a CUDA graph.

The paper-width networks at batch 32 are too small to keep a GPU busy: an eager step launches
about 770 kernels, and the host takes three to five times longer to launch them than the GPU
takes to run them (`docs/benchmarks.md`). On CUDA the step is therefore captured once as a
CUDA graph and replayed, with Adam's fused, capturable implementation. The CPU runs the same
step eagerly, with the optimizer exactly as before, so CPU results stay bit-reproducible.

Capturing needs a few warm-up steps on the real batch. They would train the model, so every
parameter, buffer and optimizer state is copied first and copied back (in place: the graph
holds their addresses) before the capture; the CUDA random state is restored too.
"""

from __future__ import annotations

import math

import torch

from attr2img.device import autocast
from attr2img.train import augment as aug_mod
from attr2img.train.augment import AugmentConfig

WARMUP_STEPS = 3


def make_optimizer(params, lr: float, weight_decay: float, device: torch.device) -> torch.optim.Adam:
    """Adam (betas 0.9/0.999, eps 1e-8, coupled L2 weight decay); fused and capturable on CUDA,
    where the learning rate is a device tensor so that a captured step reads its current value."""
    if device.type == "cuda":
        return torch.optim.Adam(params, lr=torch.tensor(float(lr), device=device), betas=(0.9, 0.999), eps=1e-8,
                                weight_decay=weight_decay, fused=True, capturable=True)
    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=weight_decay)


def scheduled_lr(lr: float, schedule: str, step: int, total_steps: int) -> float:
    """The learning rate of optimisation step ``step`` (0-based) of ``total_steps``.

    ``constant``: ``lr`` throughout. ``cosine``: from ``lr`` down to 0 along half a cosine.
    """
    if schedule == "constant":
        return lr
    if schedule == "cosine":
        return 0.5 * lr * (1.0 + math.cos(math.pi * min(step, total_steps) / max(1, total_steps)))
    raise ValueError(f"unknown learning-rate schedule {schedule!r}; choose constant or cosine")


def kl_scale(warmup: float, step: int, total_steps: int) -> float:
    """The KL terms' weight at optimisation step ``step`` (0-based) of ``total_steps``, as a
    fraction of ``model.kl_weight``: rising linearly from 0 over the first ``warmup`` of the steps
    (the KL warm-up), 1 after; 1 throughout when ``warmup`` is 0."""
    if warmup <= 0:
        return 1.0
    return min(1.0, step / (warmup * max(1, total_steps)))


def set_kl_scale(model: torch.nn.Module, scale: float) -> None:
    """Set a generator's ``kl_scale`` buffer in place (a CUDA graph reads it); models without
    KL terms (the regressor) have none."""
    buffer = getattr(model, "kl_scale", None)
    if buffer is not None:
        buffer.fill_(scale)


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate, in place when it is a tensor (a CUDA graph reads it)."""
    for group in opt.param_groups:
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(lr)
        else:
            group["lr"] = lr


class TrainStep:
    """``step(x, m, y, gen) -> (loss, parts)``: one optimisation step on a batch.

    ``loss_fn(x, m, y) -> (loss, parts)`` defaults to ``model.loss`` (a DistributedDataParallel
    wrapper goes here, with ``shard=(rank, world)``: the batch is this rank's slice of the
    global one). ``cpu_precision`` ("fp32" or "bf16") is the step's arithmetic on the CPU (CUDA
    always runs it under bf16 autocast). ``cuda_graph`` replays the step as a CUDA graph on CUDA devices; batches of
    another shape than the captured one run eagerly. The returned tensors
    of a graphed step are overwritten by the next step: read them before calling again.
    """

    def __init__(self, model: torch.nn.Module, opt: torch.optim.Optimizer, aug: AugmentConfig,
                 device: torch.device, loss_fn=None, cuda_graph: bool = True, shard: tuple[int, int] = (0, 1),
                 cpu_precision: str = "fp32"):
        self.model, self.opt, self.aug, self.device = model, opt, aug, device
        self.cpu_precision = cpu_precision
        self.loss_fn = loss_fn or model.loss
        self.graphed = cuda_graph and device.type == "cuda"
        self.graph = None
        self.rank, self.world = shard

    def __call__(self, x, m, y, gen: torch.Generator):
        # on the CPU, the same draws on any device; under DDP every rank draws the global batch's
        # and keeps its slice, so each image is augmented as in a single-process run
        n = len(x)
        r = aug_mod.draws(n * self.world, gen)[self.rank * n:(self.rank + 1) * n]
        if not self.graphed:
            return self._eager(x, m, y, r.to(self.device))
        if self.graph is None:
            self._capture(x, m, y, r)
        static_x, static_m, static_y, static_r = self.static
        if (x.shape, m.shape, y.shape) != (static_x.shape, static_m.shape, static_y.shape):
            return self._eager(x, m, y, r.to(self.device))
        for dst, src in zip(self.static, (x, m, y, r)):
            dst.copy_(src, non_blocking=True)
        self.graph.replay()
        return self.out

    def _eager(self, x, m, y, r):
        x, m = aug_mod.apply(x, m, self.aug, r)
        with autocast(self.device, self.cpu_precision):
            loss, parts = self.loss_fn(x, m, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss, parts

    def _capture(self, x, m, y, r):
        dev = self.device
        self.static = [x.clone(), m.clone(), y.clone(), r.to(dev)]
        saved, rng = snapshot(self.model, self.opt), torch.cuda.get_rng_state(dev)
        side = torch.cuda.Stream(dev)
        side.wait_stream(torch.cuda.current_stream(dev))
        with torch.cuda.stream(side):
            for _ in range(WARMUP_STEPS):
                self._eager(*self.static)
        torch.cuda.current_stream(dev).wait_stream(side)
        restore(self.model, self.opt, saved)
        torch.cuda.set_rng_state(rng, dev)
        self.opt.zero_grad(set_to_none=True)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.out = self._eager(*self.static)


def snapshot(model: torch.nn.Module, opt: torch.optim.Optimizer) -> dict:
    """Copies of every parameter, buffer and optimizer-state tensor."""
    return {"model": [t.detach().clone() for t in _model_tensors(model)],
            "opt": {id(p): {k: v.clone() for k, v in st.items() if torch.is_tensor(v)}
                    for p, st in opt.state.items()}}


def restore(model: torch.nn.Module, opt: torch.optim.Optimizer, saved: dict) -> None:
    """Copy a :func:`snapshot` back in place; optimizer state created since is zeroed (fresh Adam)."""
    with torch.no_grad():
        for t, s in zip(_model_tensors(model), saved["model"]):
            t.copy_(s)
        for p, st in opt.state.items():
            before = saved["opt"].get(id(p), {})
            for k, v in st.items():
                if torch.is_tensor(v):
                    v.copy_(before[k]) if k in before else v.zero_()


def _model_tensors(model: torch.nn.Module) -> list:
    return [*model.parameters(), *model.buffers()]
