"""Stage ``overview``: a labelled grid of a processed dataset's training images and masks."""

from __future__ import annotations

import numpy as np

from attr2img.data.fmt import load_split, read_card
from attr2img.config import from_mapping
from attr2img.figures.common import FiguresConfig, describe_attributes, plt, save_png


def draw(data_dir, out, n_examples: int = 8, seed: int = 0) -> None:
    card = read_card(data_dir)
    train = load_split(data_dir, "train")
    n = min(n_examples, len(train))
    idx = np.sort(np.random.default_rng(seed).choice(len(train), n, replace=False))
    names, kind = card["attribute_names"], card["attribute_kind"]
    fig, axes = plt.subplots(3, n, figsize=(1.55 * n, 4.6), squeeze=False,
                             gridspec_kw={"height_ratios": [1, 1, 0.75]})
    for col, i in enumerate(idx):
        img, mask = train.images[i], train.masks[i]
        axes[0, col].imshow(img, interpolation="nearest")
        overlay = img.astype(np.float32) / 255 * 0.35
        overlay[mask >= 128] = img[mask >= 128] / 255
        axes[1, col].imshow(overlay, interpolation="nearest")
        axes[2, col].text(0.0, 1.0, "\n".join(describe_attributes(train.attributes[i], names, kind)),
                          va="top", ha="left", fontsize=6.5, transform=axes[2, col].transAxes)
        axes[0, col].set_title(str(train.ids[i]), fontsize=6)
        for row in range(3):
            axes[row, col].set_axis_off()
    axes[0, 0].text(-0.08, 0.5, "image", rotation=90, va="center", ha="right", transform=axes[0, 0].transAxes)
    axes[1, 0].text(-0.08, 0.5, "mask (fg)", rotation=90, va="center", ha="right", transform=axes[1, 0].transAxes)
    axes[2, 0].text(-0.08, 1.0, "attributes", rotation=90, va="top", ha="right", transform=axes[2, 0].transAxes)
    c = card["counts"]
    fig.suptitle(f"{card['name']}: {c['train']} train / {c['val']} val / {c['test']} test, "
                 f"{len(names)} {kind} attributes", fontsize=9)
    fig.subplots_adjust(left=0.04, right=0.99, top=0.9, bottom=0.01, wspace=0.08, hspace=0.12)
    save_png(fig, out)


def add_arguments(p) -> None:
    p.add_argument("--data", required=True, help="processed dataset directory")
    p.add_argument("--out", required=True, help="output PNG")


def main(args, params: dict) -> None:
    cfg = from_mapping(FiguresConfig, params["figures"]).overview
    draw(args.data, args.out, n_examples=cfg.n_examples, seed=cfg.seed)
    print(f"wrote {args.out}")
