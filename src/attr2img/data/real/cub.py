"""CUB-200-2011 into the processed format (:mod:`attr2img.data.fmt`).

Reads what ``attr2img fetch`` extracts for the sources ``cub`` and ``cub-segmentations``:

    <cub>/CUB_200_2011/images.txt, train_test_split.txt, images/<class>/<stem>.jpg
    <cub>/CUB_200_2011/attributes/image_attribute_labels.txt
    <cub>/attributes.txt  or  <cub>/CUB_200_2011/attributes/attributes.txt   (either place)
    <segmentations>/segmentations/<class>/<stem>.png                          (soft, 0-255)

Per image: the mask is the segmentation thresholded at 0.5; the crop is the mask's tight
bounding box made square around its centre and widened by ``margin`` (a fraction of its
side), padded with the border pixels where it leaves the image; image and mask are resized
to ``size`` (80, as the authors stored them; training crops 64 from them). Attributes are
the 312 binary ``is_present`` labels, reading only the first three fields of each line (606
lines of the released file carry six); a malformed line is skipped and reported with its
line number, and a file with more than 1 % of them is refused. Splits: the official train/test split; every 10th
train image (in ``images.txt`` order) is validation.

Bad input never stops the run: an unreadable or truncated image, a missing or empty
segmentation, or a missing attribute row drops the image and is counted in the card by
reason; grayscale and RGBA/CMYK-decoded images are converted to RGB and counted. Files in the
image folders that ``images.txt`` does not list (the 8 stray ``*_rgb.jpg``) are ignored and
counted.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from skimage import io as skio
from skimage.transform import resize
from tqdm import tqdm

from attr2img.data.fmt import SPLITS, Split, write_dataset
from attr2img.data.real.readimg import load_rgb
from attr2img.errors import DatasetError


@dataclass(frozen=True)
class CubConfig:
    """params.yaml ``data.cub``."""

    limit: int = 0             # the first N listed images (0 = all)
    size: int = 80             # stored side (the authors'); models see it resized to 64
    margin: float = 0.1        # square crop around the segmentation, widened by this fraction


N_ATTRIBUTES = 312


def _numbered(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank line."""
    if not path.exists():
        raise DatasetError(f"missing {path}: fetch CUB first (attr2img fetch --source cub --out {path.parents[1]})")
    return [(n, line.split()) for n, line in enumerate(path.read_text().splitlines(), 1) if line.strip()]


def _lines(path: Path) -> list[list[str]]:
    return [fields for _, fields in _numbered(path)]


def _id_pairs(path: Path) -> dict[int, str]:
    """``<id> <value>`` lines (images.txt, train_test_split.txt); a malformed one names its file and line."""
    out = {}
    for n, fields in _numbered(path):
        if len(fields) < 2 or not fields[0].isdigit():
            raise DatasetError(f"{path}, line {n}: expected '<id> <value>', got {' '.join(fields)!r}")
        out[int(fields[0])] = fields[1]
    return out


# A file with more malformed lines than this fraction is not CUB's: refuse it rather than guess.
MAX_MALFORMED = 0.01


def read_attribute_labels(path: Path) -> tuple[dict[int, np.ndarray], dict]:
    """``image_attribute_labels.txt``: {image id: 312 labels}, and its problems.

    Only the first three fields are read (``<image> <attribute> <is_present>``; 606 lines of the
    released file carry six fields, which is harmless). A line that is short, not numeric, has
    an attribute id outside 1..312 (id 0 would silently write attribute 312) or a label other
    than 0/1 is skipped and reported with its line number.
    """
    labels, bad = {}, {}
    lines = _numbered(path)
    for n, fields in lines:
        try:
            if len(fields) < 3:
                raise ValueError("fewer than 3 fields")
            img, attr, present = int(fields[0]), int(fields[1]), int(fields[2])
        except ValueError as exc:
            why = str(exc) if str(exc) == "fewer than 3 fields" else "not a number"
            bad.setdefault(why, []).append(n)
            continue
        if not 1 <= attr <= N_ATTRIBUTES:
            bad.setdefault(f"attribute id outside 1..{N_ATTRIBUTES}", []).append(n)
        elif present not in (0, 1) or img < 1:
            bad.setdefault("image id below 1 or label not 0/1", []).append(n)
        else:
            labels.setdefault(img, np.zeros(N_ATTRIBUTES, np.float32))[attr - 1] = float(present)
    n_bad = sum(map(len, bad.values()))
    problems = {why: {"lines": len(ns), "first": ns[:10]} for why, ns in bad.items()}
    if n_bad:
        listing = "; ".join(f"{why}: line{'s' if len(ns) > 1 else ''} {', '.join(map(str, ns[:10]))}"
                            f"{' …' if len(ns) > 10 else ''}" for why, ns in bad.items())
        if n_bad > MAX_MALFORMED * max(1, len(lines)):
            raise DatasetError(f"{path}: {n_bad} of {len(lines)} lines are malformed ({listing}); "
                               f"is it CUB-200-2011's image_attribute_labels.txt?")
        print(f"warning: {path}: skipped {n_bad} malformed line(s): {listing}", file=sys.stderr)
    return labels, problems


def find_attribute_names(cub: Path) -> Path:
    """``attributes.txt`` lives beside ``CUB_200_2011/`` in the tarball, under ``attributes/`` per its README."""
    for p in (cub / "attributes.txt", cub / "CUB_200_2011" / "attributes" / "attributes.txt"):
        if p.exists():
            return p
    raise DatasetError(f"no attributes.txt in {cub} or {cub / 'CUB_200_2011' / 'attributes'}")


def read_metadata(cub: Path) -> dict:
    root = cub / "CUB_200_2011"
    images = _id_pairs(root / "images.txt")
    is_train = {i: t == "1" for i, t in _id_pairs(root / "train_test_split.txt").items()}
    names = [" ".join(f[1:]) for f in _lines(find_attribute_names(cub))]
    if len(names) != N_ATTRIBUTES:
        raise DatasetError(f"{find_attribute_names(cub)}: {len(names)} attributes, expected {N_ATTRIBUTES}")
    labels, problems = read_attribute_labels(root / "attributes" / "image_attribute_labels.txt")
    return {"images": images, "is_train": is_train, "names": names, "labels": labels, "label_problems": problems}


def square_crop(mask: np.ndarray, margin: float) -> tuple[int, int, int, int]:
    """(top, left, side, side): the mask's tight box, squared about its centre, widened by ``margin``."""
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    side = int(round(max(y1 - y0, x1 - x0) * (1 + margin)))
    cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
    return int(round(cy - side / 2)), int(round(cx - side / 2)), side, side


def crop_resize(img: np.ndarray, box, size: int, order: int) -> np.ndarray:
    top, left, h, w = box
    pad = max(0, -top, -left, top + h - img.shape[0], left + w - img.shape[1])
    if pad:
        widths = ((pad, pad), (pad, pad)) + ((0, 0),) * (img.ndim - 2)
        img = np.pad(img, widths, mode="edge")
        top, left = top + pad, left + pad
    patch = img[top:top + h, left:left + w]
    out = resize(patch, (size, size) + patch.shape[2:], order=order, preserve_range=True, anti_aliasing=order > 0)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def prepare(cub, segmentations, out, size: int = 80, margin: float = 0.1, limit: int | None = None,
            fetched: dict | None = None) -> dict:
    """Build the processed CUB dataset in ``out``; returns its card. ``limit``: first N listed images;
    ``fetched``: what the fetch record says of the files (non-reference copies), kept in the card."""
    cub, segmentations = Path(cub), Path(segmentations)
    meta = read_metadata(cub)
    img_root, seg_root = cub / "CUB_200_2011" / "images", segmentations / "segmentations"
    counts = Counter()
    listed = {str(Path(rel)) for rel in meta["images"].values()}
    counts["ignored: files not in images.txt"] = sum(
        1 for p in img_root.rglob("*") if p.is_file() and str(p.relative_to(img_root)) not in listed)
    rows = {s: [] for s in SPLITS}
    listing = sorted(meta["images"].items())[:limit]
    train_ids = [i for i, _ in listing if meta["is_train"].get(i, False)]
    val_ids = set(train_ids[9::10])                 # every 10th train image, by listing order
    for img_id, rel in tqdm(listing, desc="CUB images", unit="img", leave=False, disable=None):
        if img_id not in meta["labels"]:
            counts["skipped: no attribute row"] += 1
            continue
        img = load_rgb(img_root / rel, counts)
        if img is None:
            continue
        seg_path = (seg_root / rel).with_suffix(".png")
        try:
            seg = skio.imread(seg_path)
        except Exception:
            counts["skipped: missing or unreadable segmentation"] += 1
            continue
        mask = (seg if seg.ndim == 2 else seg[..., 0]) >= 128          # soft 0-255 mask at 0.5
        if mask.shape != img.shape[:2] or not mask.any():
            counts["skipped: segmentation empty or of another size"] += 1
            continue
        box = square_crop(mask, margin)
        split = "val" if img_id in val_ids else "train" if meta["is_train"].get(img_id, False) else "test"
        rows[split].append((crop_resize(img, box, size, 1), crop_resize(mask.astype(np.uint8) * 255, box, size, 0),
                            meta["labels"][img_id], f"cub-{img_id:05d}"))
    splits = {}
    for s in SPLITS:
        if not rows[s]:
            raise DatasetError(f"CUB {s} split is empty after preparation (counts: {dict(counts)})")
        images, masks, attrs, ids = zip(*rows[s])
        splits[s] = Split(np.stack(images), np.stack(masks), np.stack(attrs), np.array(ids))
    info = {"name": "cub", "source": f"CUB-200-2011 from {cub} and {segmentations}",
            "preparation": {"size": size, "margin": margin, "limit": limit,
                            "validation": "every 10th official train image",
                            "counts": dict(sorted(counts.items())),
                            "attribute_label_lines_skipped": meta["label_problems"]},
            "mask": "uint8, 255 = foreground (segmentation >= 0.5)", "fetched": fetched or {}}
    return write_dataset(out, splits, meta["names"], "binary", info)
