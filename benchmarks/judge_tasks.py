"""Why the birds judge does not learn bill length (issue 12, item 1): the same network trained
on all of a dataset's attributes, on one attribute group alone, or with one group's loss
weighted up, scored per attribute on the *validation* split (the test split chooses nothing).

The judge's network and augmentation (params.yaml ``regressor``: width, augmentation), Adam at
the judge's learning rate on a cosine schedule, batch 64, a fixed seed; a short schedule
(``--epochs``, 15 by default against the judge's 30) so that a variant costs about a minute:

    python benchmarks/judge_tasks.py --dataset synth-birds all bill_length bill_length-x5 softmax

Variants: ``all`` (every attribute, the judge's logistic loss), ``GROUP`` (only the attributes
whose name contains GROUP, e.g. ``bill``; ``A+B`` for those of several), ``GROUP-xK`` (every
attribute, GROUP's columns' loss weighted K times), ``softmax`` (every attribute, one softmax
cross-entropy per one-hot group ``has_X::``). Prints, per variant, the validation AUC of each attribute whose name
contains ``--show`` (default: bill_length) and the mean over the rest. Binary datasets only.
Needs the prepared data (``dvc repro prepare``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import yaml
from torch.nn import functional as F

from attr2img.data.loader import ProcessedDataset
from attr2img.device import configure_threads
from attr2img.models import ModelConfig, build_model
from attr2img.scores import column_auc
from attr2img.train.augment import AugmentConfig, augment


def groups(names: list[str]) -> dict[str, list[int]]:
    """Column indices of each ``has_X::value`` group, by group name, in order."""
    out: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        out.setdefault(name.split("::")[0], []).append(i)
    return out


def columns_and_weights(variant: str, names: list[str]) -> tuple[list[int], torch.Tensor]:
    """The attribute columns a variant trains on and each column's loss weight."""
    cols, weight = list(range(len(names))), torch.ones(len(names))
    group, _, k = variant.partition("-x")
    chosen = [i for i, n in enumerate(names) if any(g in n for g in group.split("+"))]
    if variant in ("all", "softmax"):
        return cols, weight
    if not chosen:
        raise SystemExit(f"variant {variant!r}: no attribute name contains {group!r}")
    if k:
        weight[chosen] = float(k)
        return cols, weight
    return chosen, weight


def train(variant: str, names, data, reg: dict, epochs: int, seed: int):
    x, m, y = data
    cols, weight = columns_and_weights(variant, names)
    torch.manual_seed(seed)
    model = build_model(ModelConfig("regressor", len(cols), attribute_kind="binary", width=reg["width"],
                                    dropout=reg["dropout"])).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), reg["lr"])
    batch, n = 64, len(x)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * (n // batch))
    aug = AugmentConfig(**reg["augment"])
    gen = torch.Generator().manual_seed(seed)
    grp = list(groups(names).values())
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n - batch + 1, batch):
            idx = perm[i:i + batch]
            xb, _ = augment(x[idx], m[idx], aug, gen)
            out, yb = model(xb).float(), y[idx][:, cols]
            if variant == "softmax":
                loss = sum(F.cross_entropy(out[:, g], yb[:, g].argmax(1)) for g in grp) / len(grp)
            else:
                loss = (F.binary_cross_entropy_with_logits(out, yb, reduction="none") * weight[cols]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()

    def predict(xs):
        with torch.no_grad():
            out = model(xs).float()
        return torch.cat([out[:, g].softmax(1) for g in grp], 1) if variant == "softmax" else torch.sigmoid(out)
    return cols, predict


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="+")
    ap.add_argument("--dataset", default="synth-birds")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", default="bill_length", help="print the AUC of each attribute whose name contains this")
    args = ap.parse_args()
    configure_threads(0)
    reg = yaml.safe_load(Path(args.params).read_text())["regressor"]
    root = Path("data/processed") / args.dataset
    card = json.loads((root / "card.json").read_text())
    if card["attribute_kind"] != "binary":
        raise SystemExit(f"{args.dataset}: attributes are {card['attribute_kind']}; this probe reads AUCs (binary only)")
    names = card["attribute_names"]
    train_data, (xv, _, yv) = ProcessedDataset(root, "train").tensors(), ProcessedDataset(root, "val").tensors()
    for variant in args.variants:
        t = time.perf_counter()
        cols, predict = train(variant, names, train_data, reg, args.epochs, args.seed)
        pv = predict(xv)
        auc = {names[c]: float(a) for c, a in zip(cols, column_auc(pv, yv[:, cols]))}
        shown = {n: round(a, 3) for n, a in auc.items() if args.show in n}
        rest = [a for n, a in auc.items() if n not in shown]
        print(json.dumps({"variant": variant, "epochs": args.epochs, "seconds": round(time.perf_counter() - t),
                          "val_auc": shown, "mean_auc_rest": round(sum(rest) / len(rest), 4) if rest else None,
                          "mean_auc_all": round(sum(auc.values()) / len(auc), 4)}), flush=True)


if __name__ == "__main__":
    main()
