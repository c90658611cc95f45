"""The processed-dataset format, shared by the synthetic sets and the real LFW and CUB.

A processed dataset is one directory::

    card.json                 # counts, attribute names and kind, source, generator, checksums
    train.npz val.npz test.npz

Each split holds ``images`` uint8 (N, H, W, 3), ``masks`` uint8 (N, H, W) with 255 marking
the foreground, ``attributes`` float32 (N, A) and ``ids`` (N,) unicode strings. The npz files
are written byte-reproducibly (fixed zip timestamps, no compression, no pickles).

The card stores a SHA-256 of each split's array contents and one over the whole dataset;
reading a split verifies its checksum and refuses a mismatch.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attr2img.atomic import atomic_dir, write_json, write_npz
from attr2img.errors import DatasetError

SPLITS = ("train", "val", "test")
ARRAYS = ("images", "masks", "attributes", "ids")
FORMAT_VERSION = 1


@dataclass
class Split:
    images: np.ndarray
    masks: np.ndarray
    attributes: np.ndarray
    ids: np.ndarray

    def __post_init__(self):
        n = len(self.images)
        if self.images.dtype != np.uint8 or self.images.ndim != 4 or self.images.shape[-1] != 3:
            raise DatasetError(f"images must be uint8 (N, H, W, 3), got {self.images.dtype} {self.images.shape}")
        if self.masks.dtype != np.uint8 or self.masks.shape != self.images.shape[:3]:
            raise DatasetError(f"masks must be uint8 {self.images.shape[:3]}, got {self.masks.dtype} {self.masks.shape}")
        if self.attributes.dtype != np.float32 or self.attributes.ndim != 2 or len(self.attributes) != n:
            raise DatasetError(f"attributes must be float32 ({n}, A), got {self.attributes.dtype} {self.attributes.shape}")
        if self.ids.dtype.kind != "U" or self.ids.shape != (n,):
            raise DatasetError(f"ids must be a unicode array of shape ({n},), got {self.ids.dtype} {self.ids.shape}")

    def __len__(self) -> int:
        return len(self.images)

    def arrays(self) -> dict:
        return {name: getattr(self, name) for name in ARRAYS}

    def sha256(self) -> str:
        h = hashlib.sha256()
        for name, arr in self.arrays().items():
            arr = np.ascontiguousarray(arr)
            h.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
            h.update(arr.tobytes())
        return h.hexdigest()


def dataset_checksum(split_sums: dict, attribute_names) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(list(attribute_names)).encode())
    for name in SPLITS:
        h.update(f"{name}:{split_sums[name]}".encode())
    return h.hexdigest()


def write_dataset(out: str | Path, splits: dict, attribute_names, attribute_kind: str, info: dict) -> dict:
    """Write ``splits`` (name -> Split) and the card to ``out`` atomically; return the card."""
    if set(splits) != set(SPLITS):
        raise DatasetError(f"need splits {SPLITS}, got {sorted(splits)}")
    names = list(attribute_names)
    if attribute_kind not in ("continuous", "binary"):
        raise DatasetError(f"attribute kind must be 'continuous' or 'binary', got {attribute_kind!r}")
    for name, split in splits.items():
        if split.attributes.shape[1] != len(names):
            raise DatasetError(f"{name}: {split.attributes.shape[1]} attribute columns but {len(names)} names")
    sums = {name: splits[name].sha256() for name in SPLITS}
    card = {
        "format_version": FORMAT_VERSION,
        **info,
        "image_size": int(splits["train"].images.shape[1]),
        "attribute_names": names,
        "attribute_kind": attribute_kind,
        "counts": {name: len(splits[name]) for name in SPLITS},
        "splits": {name: {"file": f"{name}.npz", "sha256": sums[name]} for name in SPLITS},
        "checksum": dataset_checksum(sums, names),
    }
    with atomic_dir(out) as tmp:
        for name in SPLITS:
            write_npz(tmp / f"{name}.npz", splits[name].arrays())
        write_json(tmp / "card.json", card)
    return card


def read_card(root: str | Path) -> dict:
    """Read a dataset card; checks that it is complete and self-consistent."""
    path = Path(root) / "card.json"
    if not path.exists():
        raise DatasetError(f"no processed dataset at {root} (missing {path}); "
                           f"run the prepare stage: attr2img prepare --dataset NAME --out {root}")
    try:
        card = json.loads(path.read_text())
        sums = {name: card["splits"][name]["sha256"] for name in SPLITS}
        names = card["attribute_names"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DatasetError(f"{path} is not a valid dataset card: {exc}") from None
    if card.get("format_version") != FORMAT_VERSION:
        raise DatasetError(f"{path}: format version {card.get('format_version')!r}, expected {FORMAT_VERSION}")
    if dataset_checksum(sums, names) != card.get("checksum"):
        raise DatasetError(f"{path}: the card's checksum does not match its split checksums (card edited?)")
    return card


def load_split(root: str | Path, split: str, verify: bool = True) -> Split:
    """Load one split; with ``verify`` its content must match the checksum in the card."""
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    card = read_card(root)
    path = Path(root) / card["splits"][split]["file"]
    try:
        with np.load(path, allow_pickle=False) as z:
            data = Split(**{name: z[name] for name in ARRAYS})
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
    if verify:
        got, want = data.sha256(), card["splits"][split]["sha256"]
        if got != want:
            raise DatasetError(f"checksum mismatch for {path}: content sha256 {got[:12]}… but the card "
                               f"records {want[:12]}…; the dataset was modified or corrupted, rerun prepare")
    if data.attributes.shape[1] != len(card["attribute_names"]):
        raise DatasetError(f"{path}: {data.attributes.shape[1]} attribute columns, card names "
                           f"{len(card['attribute_names'])}")
    return data
