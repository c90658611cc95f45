"""Stage ``prepare``: build a processed dataset (see :mod:`attr2img.data.fmt`).

For the synthetic sets the images are rendered from the seed in params.yaml and split
sequentially into train, val and test.
"""

from __future__ import annotations

import numpy as np
import skimage

import attr2img
from attr2img.data import synth
from attr2img.data.fmt import SPLITS, Split, write_dataset


def prepare_synthetic(name: str, cfg: dict, out) -> dict:
    gen = synth.GENERATORS[name]
    counts = {s: int(cfg[f"n_{s}"]) for s in SPLITS}
    total = sum(counts.values())
    data = synth.generate(name, total, int(cfg["seed"]))
    ids = np.array([f"{name}-{i:06d}" for i in range(total)])
    splits, start = {}, 0
    for s in SPLITS:
        sl = slice(start, start + counts[s])
        splits[s] = Split(data["images"][sl], data["masks"][sl], data["attributes"][sl], ids[sl])
        start += counts[s]
    info = {
        "name": name,
        "source": f"embedded synthetic generator {gen.__name__}",
        "generator": {"seed": int(cfg["seed"]), "counts": counts, "attr2img": attr2img.__version__,
                      "scikit-image": skimage.__version__,
                      "backgrounds": "photographs bundled with scikit-image"},
        "mask": "uint8, 255 = foreground (exact coverage of the rendered object >= 0.5)",
    }
    return write_dataset(out, splits, gen.ATTRIBUTES, gen.KIND, info)


def run(dataset: str, params: dict, out) -> dict:
    """Prepare ``dataset`` into the directory ``out``; returns the dataset card."""
    if dataset in synth.GENERATORS:
        return prepare_synthetic(dataset, params["data"][dataset], out)
    raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(synth.GENERATORS)}")
