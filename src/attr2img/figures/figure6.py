"""Stage ``figure6``: reconstruction and completion examples for one dataset (paper Figure 6).

For each task (reconstruction and every occluder) the examples saved by ``evaluate-recon``:
rows input, VAE, CVAE, disCVAE and ground truth, one column per test image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from attr2img.config import from_mapping
from attr2img.data.fmt import load_split
from attr2img.errors import ArtifactError
from attr2img.figures.common import plt, save_png, show
from attr2img.inference.config import EvaluationConfig

ROWS = (("VAE", "vae"), ("CVAE", "cvae"), ("disCVAE", "discvae"))
TASK_NAMES = {"recon": "reconstruction", "eyes": "completion: eyes", "mouth": "completion: mouth",
              "face": "completion: face", "right_half": "completion: right half",
              "block8": "completion: 8×8 block", "block16": "completion: 16×16 block"}


def _load(path: Path) -> dict:
    if not path.exists():
        raise ArtifactError(f"missing {path}; it is written by the evaluate-recon stage "
                         f"(attr2img evaluate-recon ... --examples {path})")
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def draw(data_dir, examples_dir, out, tasks: list[str]) -> None:
    examples = {key: _load(Path(examples_dir) / f"{key}.npz") for _, key in ROWS}
    ids = examples["cvae"]["ids"]
    test = load_split(data_dir, "test")
    truth = test.images[: len(ids)]
    if list(test.ids[: len(ids)]) != list(ids):
        raise ArtifactError(f"the examples in {examples_dir} are not the first test images of {data_dir}; rerun evaluate-recon")
    n = len(ids)
    fig, axes = plt.subplots(len(tasks) * 5, n, figsize=(0.95 * n + 1.2, 0.9 * 5 * len(tasks) + 0.6), squeeze=False)
    for t, task in enumerate(tasks):
        rows = [("input", examples["cvae"][f"{task}/input"])] + \
               [(label, examples[key][f"{task}/output"]) for label, key in ROWS] + [("ground truth", truth)]
        for k, (label, imgs) in enumerate(rows):
            r = t * 5 + k
            for c in range(n):
                show(axes[r, c], imgs[c])
            axes[r, 0].set_ylabel(label, fontsize=6)
        axes[t * 5, 0].set_title(TASK_NAMES.get(task, task), fontsize=8, loc="left", pad=3)
    fig.suptitle(f"Figure 6: reconstruction and completion by posterior inference ({Path(data_dir).name})", fontsize=9)
    fig.tight_layout()
    save_png(fig, out)
    return axes.shape


def add_arguments(p) -> None:
    p.add_argument("--dataset", required=True, help="dataset name (selects its occluders)")
    p.add_argument("--data", required=True, help="processed dataset directory")
    p.add_argument("--examples", required=True, help="folder of evaluate-recon examples (<model>.npz)")
    p.add_argument("--out", required=True, help="output PNG")


def main(args, params: dict) -> None:
    occluders = from_mapping(EvaluationConfig, params["inference"]).occluders[args.dataset]
    draw(args.data, args.examples, args.out, ["recon", *occluders])
    print(f"wrote {args.out}")
