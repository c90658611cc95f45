"""Stage ``occluders``: a picture of the completion occluders of one dataset on test images."""

from __future__ import annotations

from attr2img.config import from_mapping
from attr2img.data.loader import ProcessedDataset
from attr2img.figures.common import plt, save_png, show
from attr2img.inference.config import EvaluationConfig
from attr2img.inference.occluders import occlude, occluder_masks


def draw(data_dir, out, occluders, seed: int = 0, n: int = 4) -> None:
    test = ProcessedDataset(data_dir, "test").head(n)
    n = len(test)                                   # a test split may hold fewer than n images
    x, _, _ = next(test.batches(n))
    fig, axes = plt.subplots(len(occluders), n, figsize=(1.3 * n + 0.9, 1.35 * len(occluders) + 0.4), squeeze=False)
    for r, name in enumerate(occluders):
        occ = occluder_masks(name, len(x), x.shape[-1], seed)
        shown = occlude(x, occ)
        for c in range(n):
            show(axes[r, c], shown[c])
        frac = float(occ[0].mean())
        axes[r, 0].set_ylabel(f"{name.replace('_', ' ')}\n({frac:.0%} of pixels)", fontsize=7)
    fig.suptitle(f"{test.card['name']}: completion occluders (occluded pixels set to 0)", fontsize=8)
    fig.tight_layout()
    save_png(fig, out)


def add_arguments(p) -> None:
    p.add_argument("--dataset", required=True, help="dataset name (selects its occluders)")
    p.add_argument("--data", required=True, help="processed dataset directory")
    p.add_argument("--out", required=True, help="output PNG")


def main(args, params: dict) -> None:
    cfg = from_mapping(EvaluationConfig, params["inference"])
    draw(args.data, args.out, cfg.occluders[args.dataset], seed=cfg.seed)
    print(f"wrote {args.out}")
