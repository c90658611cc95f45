"""Stage ``figure6``: reconstruction and completion examples for one dataset (paper Figure 6).

For each task (reconstruction and every occluder) a panel of the examples saved by
``evaluate-recon``: rows input, VAE, CVAE, disCVAE and ground truth, one column per test
image; the panels are laid out side by side so that the figure is about square.
"""

from __future__ import annotations

import math
from pathlib import Path

from attr2img.artifacts import read_npz
from attr2img.catalog import GENERATORS, LABELS
from attr2img.config import from_mapping
from attr2img.data.fmt import load_split
from attr2img.errors import ArtifactError
from attr2img.figures.common import plt, save_png, show
from attr2img.inference.config import EvaluationConfig

ROWS = tuple((LABELS[g], g) for g in GENERATORS)
PANEL = len(ROWS) + 2                   # a task's rows: input, the generators, ground truth
TASK_NAMES = {"recon": "reconstruction", "eyes": "completion: eyes", "mouth": "completion: mouth",
              "face": "completion: face", "right_half": "completion: right half",
              "block8": "completion: 8×8 block", "block16": "completion: 16×16 block"}


def draw(data_dir, examples_dir, out, tasks: list[str]) -> None:
    examples = {key: read_npz(Path(examples_dir) / f"{key}.npz", "attr2img evaluate-recon") for _, key in ROWS}
    ids = examples["cvae"]["ids"]
    test = load_split(data_dir, "test")
    truth = test.images[: len(ids)]
    if list(test.ids[: len(ids)]) != list(ids):
        raise ArtifactError(f"the examples in {examples_dir} are not the first test images of {data_dir}; rerun evaluate-recon")
    n = len(ids)
    # one panel per task (rows: input, the three models, ground truth; a column per image),
    # as many panels abreast as make the figure closest to square, so that a page holds it
    cols = min(range(1, len(tasks) + 1),
               key=lambda k: abs(math.log(k * (n + 0.25) / (PANEL * -(-len(tasks) // k)))))
    prow = -(-len(tasks) // cols)
    widths = ([1.0] * n + [0.25]) * (cols - 1) + [1.0] * n
    fig, axes = plt.subplots(prow * PANEL, len(widths), figsize=(0.95 * sum(widths) + 0.9, 0.98 * PANEL * prow + 0.6),
                             squeeze=False, gridspec_kw={"width_ratios": widths})
    for ax in axes.flat:
        ax.set_axis_off()
    for t, task in enumerate(tasks):
        pr, pc = divmod(t, cols)
        rows = [("input", examples["cvae"][f"{task}/input"])] + \
               [(label, examples[key][f"{task}/output"]) for label, key in ROWS] + [("ground truth", truth)]
        for k, (label, imgs) in enumerate(rows):
            for c in range(n):
                ax = axes[pr * PANEL + k, pc * (n + 1) + c]
                ax.set_axis_on()
                show(ax, imgs[c])
            axes[pr * PANEL + k, pc * (n + 1)].set_ylabel(label, fontsize=7)
        axes[pr * PANEL, pc * (n + 1)].set_title(TASK_NAMES.get(task, task), fontsize=9, loc="left", pad=3)
    height = fig.get_figheight()
    fig.suptitle(f"Figure 6: reconstruction and completion by posterior inference ({Path(data_dir).name})",
                 fontsize=10, y=1 - 0.12 / height)
    fig.subplots_adjust(left=0.9 / fig.get_figwidth(), right=0.995, bottom=0.01, top=1 - 0.55 / height,
                        wspace=0.06, hspace=0.3)
    save_png(fig, out)
    return prow, cols, PANEL, n


def add_arguments(p) -> None:
    p.add_argument("--dataset", required=True, help="dataset name (selects its occluders)")
    p.add_argument("--data", required=True, help="processed dataset directory")
    p.add_argument("--examples", required=True, help="folder of evaluate-recon examples (<model>.npz)")
    p.add_argument("--out", required=True, help="output PNG")


def main(args, params: dict) -> None:
    occluders = from_mapping(EvaluationConfig, params["inference"]).occluders[args.dataset]
    draw(args.data, args.examples, args.out, ["recon", *occluders])
    print(f"wrote {args.out}")
