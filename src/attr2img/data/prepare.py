"""Stage ``prepare``: build a processed dataset (see :mod:`attr2img.data.fmt`).

The input is the fetch stage's record (``resources/<dataset>/fetched.json``); the files it
verified lie beside it, one folder per source.

- ``synth-faces``, ``synth-birds``: rendered from the seed in params.yaml (nothing was
  fetched) and split sequentially into train, val and test.
- ``lfw``: :func:`attr2img.data.real.lfw.prepare` (alignment, attributes, View 1 split, masks). A
  source the record lists as missing (View 1, Part Labels) is replaced by its fallback.
- ``cub``: :func:`attr2img.data.real.cub.prepare` (segmentation crops at 80x80, 312 attributes).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import skimage

import attr2img
from attr2img.config import from_mapping
from attr2img.data import synth
from attr2img.data.real import cub, lfw
from attr2img.data.fmt import SPLITS, Split, write_dataset
from attr2img.errors import DatasetError
from attr2img.scores import agreement

DATASETS = (*synth.DATASETS, "lfw", "cub")


def prepare_synthetic(name: str, cfg: synth.SynthConfig, out) -> dict:
    gen = synth.DATASETS[name]
    counts = {"train": cfg.n_train, "val": cfg.n_val, "test": cfg.n_test}
    total = sum(counts.values())
    data = synth.generate(name, total, cfg.seed)
    ids = np.array([f"{name}-{i:06d}" for i in range(total)])
    splits, start = {}, 0
    for s in SPLITS:
        sl = slice(start, start + counts[s])
        splits[s] = Split(data["images"][sl], data["masks"][sl], data["attributes"][sl], ids[sl])
        start += counts[s]
    test = slice(total - cfg.n_test, total)
    info = {
        "name": name,
        "source": f"embedded synthetic generator {gen.__name__}",
        "generator": {"seed": cfg.seed, "counts": counts, "attr2img": attr2img.__version__,
                      "scikit-image": skimage.__version__,
                      "backgrounds": "photographs bundled with scikit-image"},
        "mask": "uint8, 255 = foreground (exact coverage of the rendered object >= 0.5)",
        # the labels carry noise the images cannot show: predicting the noise-free attributes
        # exactly is the best any attribute regressor can do against the test labels
        "noise_ceiling": {"split": "test", **agreement(data["clean_attributes"][test], data["attributes"][test],
                                                       binary=gen.KIND == "binary")},
    }
    return write_dataset(out, splits, gen.ATTRIBUTES, gen.KIND, info)


def read_record(path, dataset: str) -> dict:
    """The fetch stage's record for ``dataset``; refuses a missing one or another dataset's."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"no fetch record at {path}: run the fetch stage first "
                           f"(attr2img fetch --dataset {dataset} --out {path.parent})")
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path} is not a fetch record: {exc}") from None
    if record.get("dataset") != dataset:
        raise DatasetError(f"{path} records the files of {record.get('dataset')!r}, not {dataset!r}")
    return record


def run(dataset: str, params: dict, out, fetched=None) -> dict:
    """Prepare ``dataset`` into the directory ``out`` from what ``fetched`` records; returns the card.

    ``fetched`` (the fetch stage's record) may be left out for the synthetic sets only.
    """
    if dataset not in DATASETS:
        raise DatasetError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    if fetched is None and dataset not in synth.DATASETS:
        raise DatasetError(f"{dataset} is prepared from fetched files: give the fetch record "
                           f"(--fetched resources/{dataset}/fetched.json)")
    record = read_record(fetched, dataset) if fetched is not None else None
    section = params["data"][dataset]
    if dataset in synth.DATASETS:
        return prepare_synthetic(dataset, from_mapping(synth.SynthConfig, section), out)
    res = Path(fetched).parent
    provenance = {"non_reference_copies": record.get("non_reference_copies", []),
                  "fallbacks": {name: m["fallback"] for name, m in record["missing"].items()}}
    if dataset == "cub":
        cfg = from_mapping(cub.CubConfig, section)
        return cub.prepare(res / "cub", res / "cub-segmentations", out, size=cfg.size, margin=cfg.margin,
                           limit=cfg.limit or None, fetched=provenance)
    # only what the fetch stage verified is read: a missing optional source means its fallback
    cfg = from_mapping(lfw.LfwConfig, section)
    limit = cfg.limit or None
    have = record["sources"]
    use_parts = cfg.masks == "auto" and "lfw-part-labels" in have
    return lfw.prepare(res / "lfw-funneled", res / "lfw-attributes" / "lfw_attributes.txt",
                       res / "lfw-view1" if "lfw-view1" in have else None, out, limit=limit,
                       part_labels=res / "lfw-part-labels" if use_parts else None, fetched=provenance)


# -- the prepare stage's command line ------------------------------------------------------------
def add_arguments(p) -> None:
    p.add_argument("--dataset", required=True, help="dataset name, e.g. synth-faces")
    p.add_argument("--fetched", help="the fetch stage's record, e.g. resources/lfw/fetched.json (the dataset's "
                                     "files lie beside it); needed for lfw and cub")
    p.add_argument("--out", required=True, help="output directory, e.g. data/processed/synth-faces")


def main(args, params: dict) -> None:
    card = run(args.dataset, params, args.out, args.fetched)
    print(f"{args.dataset}: wrote {args.out} ({card['counts']}, checksum {card['checksum'][:12]})")
