"""LFW into the processed format (:mod:`attr2img.data.fmt`).

Reads what ``attr2img fetch`` puts in ``resources/``: the funneled images
(``lfw_funneled/<Name>/<Name>_<NNNN>.jpg``), ``lfw_attributes.txt`` and, when they can be
had, the View 1 lists ``peopleDevTrain.txt`` / ``peopleDevTest.txt``.

- **Alignment**: five landmarks from facenet-pytorch's MTCNN (weights ship in the package;
  install it with ``pip install --no-deps facenet-pytorch==2.6.0``, since its metadata pins an
  old torch) and a similarity transform onto ``TEMPLATE``, warped to 64×64. The template is
  synth-faces' mean face geometry, so the completion occluders fit both. Faces the detector
  misses get the median transform of the detected ones (the funneled images are already
  roughly aligned); they are counted in the card.
- **Attributes**: the 73 scores, joined on (person, image number); images without a row are
  dropped and counted.
- **Split**: View 1 by identity (peopleDevTrain / peopleDevTest). Without those files, a
  deterministic identity split of the same proportions (4,038 : 1,711 people) by the SHA-256
  of each name, recorded in the card. Validation: the last 10 % of the train images (at least one).
- **Masks** (hair and skin = foreground): with the LFW Part Labels, a small segmentation
  network trained on them (:mod:`attr2img.data.real.partlabels`; its IoU on the Part Labels test
  list goes into the card). Without them, download-free: a random walker on the aligned
  colour image, seeded with the template's inner face as foreground and the image border as
  background (``template_mask_seeds``), which recovers synth-faces' true masks with a mean
  IoU of about 0.6 (``docs/benchmarks.md``).
"""

from __future__ import annotations

import hashlib
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from skimage.segmentation import random_walker
from skimage.transform import SimilarityTransform, warp
from tqdm import tqdm

from attr2img.data.real import partlabels
from attr2img.data.synth import faces as synth_faces
from attr2img.data.fmt import SPLITS, Split, write_dataset
from attr2img.data.real.readimg import load_rgb
from attr2img.errors import DatasetError, UsageError


@dataclass(frozen=True)
class LfwConfig:
    """params.yaml ``data.lfw``."""

    limit: int = 0             # the first N images in name order (0 = all)
    masks: str = "auto"        # auto: the Part Labels segmenter when fetched, else the template method

SIZE = 64
VIEW1_TRAIN_FRACTION = 4038 / (4038 + 1711)
_CX, _CY, _S = synth_faces.MEAN_CX, synth_faces.MEAN_CY, synth_faces.MEAN_SCALE   # normalised coords
# MTCNN's landmark order: left eye, right eye, nose, left and right mouth corner (image left/right)
TEMPLATE = np.array([
    (_CX - synth_faces.EYE_DX * _S, _CY + synth_faces.EYE_DY * _S),
    (_CX + synth_faces.EYE_DX * _S, _CY + synth_faces.EYE_DY * _S),
    (_CX, _CY + 0.08 * _S),
    (_CX - 0.09 * _S, _CY + synth_faces.MOUTH_DY * _S),
    (_CX + 0.09 * _S, _CY + synth_faces.MOUTH_DY * _S),
])


def template_pixels(size: int = SIZE) -> np.ndarray:
    """TEMPLATE in pixel coordinates (x, y) of a ``size`` image (pixel centres at i + 0.5)."""
    return (TEMPLATE + 1) / 2 * size - 0.5


# -- metadata -----------------------------------------------------------------------------------
def read_attributes(path: Path) -> tuple[list[str], dict]:
    """(73 names, {(Person_Name, image number): scores}) from ``lfw_attributes.txt``."""
    if not path.exists():
        raise DatasetError(f"missing {path}: attr2img fetch --source lfw-attributes --out {path.parent}")
    names, rows = None, {}
    for line in path.read_text().splitlines():
        fields = line.rstrip("\n").split("\t")
        if line.startswith("#"):
            if len(fields) > 3 and fields[1] == "person":
                names = fields[3:]
            continue
        if not line.strip():
            continue
        if names is None:
            raise DatasetError(f"{path}: no header line '#\\tperson\\timagenum\\t<names>' before the rows")
        if len(fields) != 2 + len(names):
            raise DatasetError(f"{path}: a row with {len(fields)} fields, expected {2 + len(names)}: {line[:80]!r}")
        rows[(fields[0].replace(" ", "_"), int(fields[1]))] = np.array(fields[2:], dtype=np.float32)
    if names is None:
        raise DatasetError(f"{path}: no header line with the attribute names")
    return names, rows


def read_view1(folder: Path) -> dict | None:
    """{person: 'train' | 'test'} from peopleDevTrain/Test.txt, or None when they are absent."""
    files = {"train": folder / "peopleDevTrain.txt", "test": folder / "peopleDevTest.txt"}
    if not all(p.exists() for p in files.values()):
        return None
    split = {}
    for name, path in files.items():
        lines = path.read_text().split("\n")
        n = int(lines[0])
        for line in lines[1:1 + n]:
            split[line.split("\t")[0]] = name
    return split


def _fraction(text: str) -> float:
    """A deterministic number in [0, 1) from sha256(text)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2 ** 64


def identity_split(person: str) -> str:
    """The documented fallback: train when sha256(name) falls in the View 1 train fraction."""
    return "train" if _fraction(person) < VIEW1_TRAIN_FRACTION else "test"


VAL_FRACTION = 0.1


def validation_people(people) -> set[str]:
    """The train identities held out for validation: sha256("val:" + name) below 0.1, so no
    person is in both; at least one when there are two or more people."""
    people = sorted(set(people))
    val = {p for p in people if _fraction("val:" + p) < VAL_FRACTION}
    if not val and len(people) > 1:
        val = {min(people, key=lambda p: _fraction("val:" + p))}
    return val


# -- alignment ---------------------------------------------------------------------------------
def missing_module_message(exc: ImportError) -> str:
    """What to install when importing facenet-pytorch failed, naming the module that is missing."""
    if exc.name in (None, "facenet_pytorch"):
        return ("LFW alignment needs facenet-pytorch: pip install --no-deps facenet-pytorch==2.6.0 "
                "(its metadata pins an old torch; it runs with ours)")
    return (f"LFW alignment: facenet-pytorch imports {exc.name!r}, which is not installed: "
            f"pip install -e '.[lfw]' (torchvision and requests) or pip install {exc.name}")


def detector(device: str | None = None):
    """facenet-pytorch's MTCNN on ``device`` (None: CUDA when present, else the CPU)."""
    import torch

    try:
        from facenet_pytorch import MTCNN
    except ImportError as exc:
        raise UsageError(missing_module_message(exc)) from None
    return MTCNN(keep_all=False, device=device or ("cuda" if torch.cuda.is_available() else "cpu"))


def landmarks(mtcnn, images: list[np.ndarray], batch: int = 32) -> list[np.ndarray | None]:
    """Five (x, y) landmarks of the largest face of each image (MTCNN's choice), or None.

    Runs of same-sized images (all of LFW: 250x250) are detected ``batch`` at a time: 1.6x
    faster on two CPU cores than one at a time, with the same landmarks to 1e-4 px.
    """
    out = []
    with tqdm(total=len(images), desc="LFW landmarks", unit="img", leave=False, disable=None) as bar:
        start = 0
        while start < len(images):
            stop = start + 1
            while stop < len(images) and stop - start < batch and images[stop].shape == images[start].shape:
                stop += 1
            chunk = images[start:stop]
            _, _, pts = mtcnn.detect(chunk if len(chunk) > 1 else chunk[0], landmarks=True)
            pts = pts if len(chunk) > 1 else [pts]
            out += [None if p is None else np.asarray(p[0], dtype=np.float64) for p in pts]
            bar.update(len(chunk))
            start = stop
    return out


def transform_for(points: np.ndarray, size: int = SIZE) -> SimilarityTransform:
    """The similarity transform taking image landmarks onto the template."""
    if hasattr(SimilarityTransform, "from_estimate"):              # scikit-image >= 0.26
        t = SimilarityTransform.from_estimate(points, template_pixels(size))
        ok = bool(t)
    else:
        t = SimilarityTransform()
        ok = t.estimate(points, template_pixels(size))
    if not ok:
        raise DatasetError("degenerate landmarks")
    return t


def align(img: np.ndarray, tform: SimilarityTransform, size: int = SIZE) -> np.ndarray:
    out = warp(img, tform.inverse, output_shape=(size, size), order=1, mode="edge", preserve_range=True)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


# -- masks -------------------------------------------------------------------------------------
def template_mask_seeds(size: int = SIZE) -> np.ndarray:
    """Random-walker labels: 1 = the template's inner face (foreground), 2 = the border, 0 = free."""
    c = (np.arange(size) + 0.5) / size * 2 - 1
    v, u = np.meshgrid(c, c, indexing="ij")
    labels = np.zeros((size, size), np.int32)
    labels[((u - _CX) / (0.16 * _S)) ** 2 + ((v - _CY - 0.06 * _S) / (0.24 * _S)) ** 2 < 1] = 1
    labels[np.minimum.reduce([u + 1, 1 - u, v + 1, 1 - v]) < 0.12] = 2
    return labels


def template_mask(img: np.ndarray) -> np.ndarray:
    """A foreground mask (bool) for an aligned face, with no trained model and no download."""
    with warnings.catch_warnings():           # cg_j's probabilities overshoot [0, 1] slightly; harmless here
        warnings.filterwarnings("ignore", "The probability range is outside", UserWarning)
        prob = random_walker(img.astype(np.float32) / 255, template_mask_seeds(img.shape[0]), beta=130,
                             mode="cg_j", channel_axis=-1, return_full_prob=True)
    return prob[0] > 0.5


# -- the dataset -------------------------------------------------------------------------------
def _part_label_masks(part_labels: Path, top: Path, mtcnn, fallback, tforms: dict, faces: np.ndarray,
                      counts: Counter) -> tuple:
    """Train the segmenter on the aligned Part Labels; returns (masks for ``faces``, test IoU).

    ``tforms`` holds the alignment of the images already aligned; the others are detected here.
    """
    sets = {}
    for split, keys in partlabels.read_splits(part_labels).items():
        imgs, labels = [], []
        for person, num in keys:
            img = load_rgb(top / person / f"{person}_{num:04d}.jpg", counts)
            fg = partlabels.read_foreground(part_labels, person, num)
            if img is None or fg is None or fg.shape != img.shape[:2]:
                counts["part labels: image or label missing"] += 1
                continue
            t = tforms.get((person, num))
            if t is None:
                (p,) = landmarks(mtcnn, [img])
                t = transform_for(p) if p is not None else fallback
            imgs.append(align(img, t))
            labels.append(align(fg.astype(np.uint8) * 255, t) > 127)
        sets[split] = (np.stack(imgs), np.stack(labels)) if imgs else None
    if sets["test"] is None or not (sets["train"] or sets["validation"]):
        raise DatasetError(f"{part_labels}: the Part Labels lists name no usable image (counts: {dict(counts)})")
    fit = [x for x in (sets["train"], sets["validation"]) if x is not None]
    model = partlabels.train_segmenter(np.concatenate([f[0] for f in fit]), np.concatenate([f[1] for f in fit]))
    test_iou = partlabels.mean_iou(partlabels.predict(model, sets["test"][0]), sets["test"][1])
    return partlabels.predict(model, faces), test_iou


def prepare(images_root, attributes_file, view1_folder, out, mtcnn=None, limit: int | None = None,
            part_labels=None, fetched: dict | None = None) -> dict:
    """Build the processed LFW dataset in ``out``; returns its card.

    ``images_root`` holds ``lfw_funneled/``; ``view1_folder`` (None: not fetched) may lack the View 1 lists;
    ``part_labels`` (a folder with the Part Labels, or None) selects the segmentation network
    over the download-free template masks. ``fetched``: what the fetch record says of the
    files (non-reference copies, fallbacks), kept in the card.
    """
    images_root = Path(images_root)
    top = images_root / "lfw_funneled"
    if not top.is_dir():
        raise DatasetError(f"no {top}: attr2img fetch --source lfw-funneled --out {images_root}")
    names, rows = read_attributes(Path(attributes_file))
    view1 = read_view1(Path(view1_folder)) if view1_folder is not None else None
    counts = Counter()
    entries = []
    for path in sorted(top.glob("*/*.jpg"))[:limit]:
        person, num = path.stem.rsplit("_", 1)
        key = (person, int(num))
        if key not in rows:
            counts["dropped: no attribute row"] += 1
            continue
        img = load_rgb(path, counts)
        if img is not None:
            entries.append((key, img))
    if not entries:
        raise DatasetError(f"no usable images under {top} (counts: {dict(counts)})")
    mtcnn = mtcnn or detector()
    detected = [None if p is None else transform_for(p) for p in landmarks(mtcnn, [img for _, img in entries])]
    found = [t.params for t in detected if t is not None]
    if not found:
        raise DatasetError("the face detector found no face in any image; cannot align")
    fallback = SimilarityTransform(np.median(np.stack(found), axis=0))
    counts["detector misses (median transform used)"] = len(detected) - len(found)
    tforms = {key: fallback if t is None else t for (key, _), t in zip(entries, detected)}
    faces = np.stack([align(img, tforms[key]) for key, img in entries])
    if part_labels is not None and partlabels.available(Path(part_labels)):
        masks, test_iou = _part_label_masks(Path(part_labels), top, mtcnn, fallback, tforms, faces, counts)
        mask_method = {"method": "segmentation network trained on the LFW Part Labels (hair + skin)",
                       "part_labels_test_iou": round(test_iou, 4)}
    else:
        masks = np.stack([template_mask(f) for f in tqdm(faces, desc="LFW masks", unit="img", leave=False,
                                                         disable=None)])
        mask_method = {"method": "random walker seeded from the face template (download-free)",
                       "part_labels": f"not found in {part_labels}" if part_labels is not None
                       else "not used (not fetched, or data.lfw.masks is template)"}
    people = {}
    for (key, _), face, mask in zip(entries, faces, masks):
        person = key[0]
        split = (view1.get(person) if view1 is not None else identity_split(person))
        if split is None:
            counts["dropped: person not in View 1"] += 1
            continue
        people.setdefault(split, []).append((face, mask, rows[key], f"{person}_{key[1]:04d}"))
    train = people.get("train", [])
    held_out = validation_people(row[3].rsplit("_", 1)[0] for row in train)
    groups = {"train": [r for r in train if r[3].rsplit("_", 1)[0] not in held_out],
              "val": [r for r in train if r[3].rsplit("_", 1)[0] in held_out], "test": people.get("test", [])}
    splits = {}
    for s in SPLITS:
        if not groups[s]:
            raise DatasetError(f"LFW {s} split is empty after preparation (counts: {dict(counts)})")
        faces_s, masks_s, attrs, ids = zip(*groups[s])
        splits[s] = Split(np.stack(faces_s), np.stack(masks_s).astype(np.uint8) * 255, np.stack(attrs), np.array(ids))
    info = {"name": "lfw", "source": f"LFW funneled from {images_root}",
            "preparation": {"alignment": "MTCNN five landmarks, similarity transform onto the synth-faces template",
                            "split": "View 1 (peopleDevTrain / peopleDevTest)" if view1 is not None else
                            f"deterministic identity split: sha256(name) < {VIEW1_TRAIN_FRACTION:.4f} "
                            f"(View 1 files {'not fetched' if view1_folder is None else f'not found in {view1_folder}'})",
                            "validation": "10 % of the train identities, by sha256('val:' + name) (at least "
                                          "one person): no person is in both train and validation",
                            "masks": mask_method, "limit": limit, "counts": dict(sorted(counts.items()))},
            "mask": "uint8, 255 = foreground (hair and skin)", "fetched": fetched or {}}
    return write_dataset(out, splits, names, "continuous", info)
