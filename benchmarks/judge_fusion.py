"""Would the birds judge train faster as one grouped network? (issue 12, item 8: where to buy
time back on the slower VM.)

synth-birds' judge is three networks (params.yaml ``regressor.networks``), each the
recognition model's image stream at the judge's width, and it trains for about three times as
long as the faces' one-network judge. The same three networks can run as one: every
convolution with ``groups=3`` over the input repeated three times, the fully connected layers
as grouped 1x1 convolutions. That computes the same function (``fuse`` copies the weights, and
tests/test_judge_fusion.py checks the outputs agree) with a third of the operator calls, so
it is faster only if the separate networks spend their time in per-call overhead rather than in
arithmetic. This measures one training step (forward, loss, backward, Adam) and one judging
forward pass of each form, on random images at the judge's batch size:

    python benchmarks/judge_fusion.py --dataset synth-birds --steps 20

Prints the milliseconds per step of the separate networks, the grouped network and a single
network, and the grouped / separate ratio (below 1: fusing would pay).
"""

from __future__ import annotations

import argparse
import time

import torch
import yaml
from torch import nn

from attr2img.data.synth import DATASETS as SYNTHETIC
from attr2img.device import configure_threads
from attr2img.models import ModelConfig
from attr2img.models.regressor import AttributeRegressor
from attr2img.train.loop import recipe
from attr2img.train.step import make_optimizer


def judge_config(params: dict, dataset: str) -> ModelConfig:
    """The judge's typed config for a synthetic dataset, as the train stage builds it."""
    _, section = recipe(params, "regressor")
    module = SYNTHETIC[dataset]
    return ModelConfig.from_params(section, model="regressor", dataset=dataset, attribute_names=module.ATTRIBUTES,
                                   attribute_kind=module.KIND, image_size=64)


class GroupedRegressor(nn.Module):
    """The judge's G networks as one network: layer k of every network side by side in one
    convolution with ``groups=G``. Outputs the same columns as AttributeRegressor.forward."""

    def __init__(self, sep: AttributeRegressor):
        super().__init__()
        g = len(sep.nets)
        self.g = g
        self.n_out = [net[-1].out_features for net in sep.nets]
        self.width = max(self.n_out)
        layers: list[nn.Module] = []
        for layer in sep.nets[0][0]:                         # the ImageEncoder of network 0
            if isinstance(layer, nn.Conv2d):
                layers.append(nn.Conv2d(layer.in_channels * g, layer.out_channels * g, layer.kernel_size,
                                        stride=layer.stride, padding=layer.padding, groups=g,
                                        bias=layer.bias is not None))
            elif isinstance(layer, nn.BatchNorm2d):
                layers.append(nn.BatchNorm2d(layer.num_features * g))
            elif isinstance(layer, nn.Linear):               # after the 1x1 map: a 1x1 convolution
                layers.append(nn.Conv2d(layer.in_features * g, layer.out_features * g, 1, groups=g))
            elif isinstance(layer, nn.Flatten):
                continue                                     # the maps stay (N, C, 1, 1) until the end
            else:
                layers.append(type(layer)(**_same_args(layer)))
        layers.append(nn.Conv2d(sep.nets[0][-1].in_features * g, self.width * g, 1, groups=g))
        self.body = nn.Sequential(*layers)
        # the outputs of network k are columns k * width + (0 .. n_out[k]); then AttributeRegressor's order
        keep = [k * self.width + j for k, n in enumerate(self.n_out) for j in range(n)]
        self.register_buffer("keep", torch.tensor(keep), persistent=False)
        self.register_buffer("column", sep.column.clone(), persistent=False)
        fuse(sep, self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x.repeat(1, self.g, 1, 1)).flatten(1)
        return out[:, self.keep][:, self.column]


def _same_args(layer: nn.Module) -> dict:
    if isinstance(layer, nn.MaxPool2d):
        return {"kernel_size": layer.kernel_size}
    if isinstance(layer, nn.Dropout):
        return {"p": layer.p}
    return {}


@torch.no_grad()
def fuse(sep: AttributeRegressor, grouped: GroupedRegressor) -> None:
    """Copy the separate networks' weights into the grouped one, block by block."""
    per_net = [[m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.BatchNorm2d))]
               for net in sep.nets]
    fused = [m for m in grouped.body if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]
    for i, target in enumerate(fused):
        last = i == len(fused) - 1
        for k, source in enumerate(layer[i] for layer in per_net):
            if isinstance(target, nn.BatchNorm2d):
                n = source.num_features
                for name in ("weight", "bias", "running_mean", "running_var"):
                    getattr(target, name)[k * n:(k + 1) * n] = getattr(source, name)
                continue
            rows = grouped.width if last else source.weight.shape[0]
            w = source.weight if source.weight.dim() == 4 else source.weight[:, :, None, None]
            target.weight[k * rows:(k + 1) * rows] = 0.0
            target.weight[k * rows:k * rows + w.shape[0]] = w
            if target.bias is not None:
                target.bias[k * rows:(k + 1) * rows] = 0.0
                target.bias[k * rows:k * rows + w.shape[0]] = source.bias


def time_steps(model: nn.Module, y: torch.Tensor, x: torch.Tensor, steps: int, train: bool) -> float:
    """Milliseconds per training step (forward, MSE-on-logits loss, backward, Adam) or per
    judging forward pass, after 3 warm-up steps."""
    opt = make_optimizer(model.parameters(), 1e-3, 0.0, torch.device("cpu"))
    model.train(train)
    for i in range(steps + 3):
        if i == 3:
            t0 = time.perf_counter()
        if train:
            loss = nn.functional.binary_cross_entropy_with_logits(model(x).float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                model(x)
    return (time.perf_counter() - t0) / steps * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--dataset", default="synth-birds", choices=sorted(SYNTHETIC))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0, help="0 = all cores")
    args = ap.parse_args()
    configure_threads(args.threads)
    params = yaml.safe_load(open(args.params))
    cfg = judge_config(params, args.dataset)
    torch.manual_seed(0)
    sep = AttributeRegressor(cfg).to(memory_format=torch.channels_last)
    if len(sep.nets) < 2:
        raise SystemExit(f"{args.dataset}'s judge is one network: there is nothing to fuse")
    grouped = GroupedRegressor(sep).to(memory_format=torch.channels_last)
    single = AttributeRegressor(ModelConfig.from_dict({**cfg.to_dict(), "networks": []}))
    single = single.to(memory_format=torch.channels_last)
    batch = int(params["regressor"]["batch_size"])
    x = torch.rand(batch, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    y = (torch.rand(batch, cfg.n_attributes) < 0.3).float()
    sep.eval(), grouped.eval()
    with torch.no_grad():
        gap = (sep(x) - grouped(x)).abs().max().item()
    print(f"{args.dataset}: {len(sep.nets)} networks at width {cfg.width}, batch {batch}, "
          f"{torch.get_num_threads()} threads; grouped vs separate outputs differ by at most {gap:.2e}")
    print("| form | training step (ms) | judging forward (ms) |")
    print("|---|---|---|")
    rows = {}
    for name, model in (("separate networks (the judge)", sep), ("one grouped network", grouped),
                        ("a single network (for scale)", single)):
        rows[name] = (time_steps(model, y, x, args.steps, True), time_steps(model, y, x, args.steps, False))
        print(f"| {name} | {rows[name][0]:.1f} | {rows[name][1]:.1f} |")
    (ts, fs), (tg, fg) = rows["separate networks (the judge)"], rows["one grouped network"]
    print(f"grouped / separate: training {tg / ts:.2f}, judging {fg / fs:.2f} (below 1: fusing pays)")


if __name__ == "__main__":
    main()
