"""Posterior inference on your own images: the API behind ``attr2img reconstruct`` and ``complete``.

>>> from attr2img.inference.api import reconstruct, complete
>>> out = reconstruct("models/synth-faces/discvae", images, attributes)        # images: (N, 64, 64, 3) uint8
>>> out = complete("models/synth-faces/cvae", images, attributes, "eyes")
>>> out["images"], out["z"], out["energy"]
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from attr2img.atomic import atomic_dir
from attr2img.config import from_mapping
from attr2img.device import add_device_argument, resolve_device
from attr2img.catalog import GENERATORS
from attr2img.data.loader import MODEL_SIZE, resize_u8
from attr2img.data.real.readimg import load_rgb
from attr2img.errors import AttributeInputError, DatasetError, UsageError
from attr2img.images import to_model_space, to_uint8
from attr2img.inference.config import EvaluationConfig
from attr2img.inference.occluders import OCCLUDERS, occlude, occluder_masks
from attr2img.inference.posterior import InferenceConfig, infer
from attr2img.models.store import load_model
from attr2img.train.config import TrainConfig

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff")


def fit_model_size(img: np.ndarray) -> np.ndarray:
    """A uint8 (H, W, 3) image resized to the models' 64x64 as the loader resizes datasets."""
    if img.shape[:2] == (MODEL_SIZE, MODEL_SIZE):
        return img
    x = torch.from_numpy(np.ascontiguousarray(img))[None]
    return resize_u8(x, torch.zeros(x.shape[:3], dtype=torch.uint8))[0][0].numpy()


def read_images(paths) -> tuple[np.ndarray, list[str]]:
    """Image files or folders of images -> uint8 (N, 64, 64, 3) and names. Any format Pillow reads,
    converted to RGB (CMYK, palette, grayscale) and resized as the loader resizes datasets."""
    files = []
    for p in map(Path, paths):
        if not p.exists():
            raise DatasetError(f"no such image or folder: {p}")
        files += sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES) if p.is_dir() else [p]
    if not files:
        raise DatasetError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found in {', '.join(map(str, paths))}")
    out = []
    for f in files:
        img = load_rgb(f, Counter())
        if img is None:
            raise DatasetError(f"cannot read {f}: not an image file, or a truncated one")
        out.append(fit_model_size(img))
    return np.stack(out), [f.stem for f in files]


def read_attributes(path) -> np.ndarray:
    """Attribute vectors from a .npy or text file, one per row; ``_run`` checks their shape."""
    path = Path(path)
    try:
        y = np.load(path, allow_pickle=False) if path.suffix == ".npy" else np.loadtxt(path, ndmin=2)
    except (OSError, ValueError) as exc:
        raise AttributeInputError(f"cannot read attributes from {path}: {exc}") from None
    y = np.asarray(y, np.float32)
    return y[None] if y.ndim == 1 else y


def _run(model_dir, images: np.ndarray, attributes, occluder: str | None, cfg: InferenceConfig,
         device="cpu", seed: int = 0) -> dict:
    model, card = load_model(model_dir, resolve_device(device))
    if card["model"] not in GENERATORS:
        raise UsageError(f"{model_dir} holds the {card['model']}, not a generator: give a {', '.join(GENERATORS)} "
                         f"folder, e.g. models/{card.get('dataset', 'synth-faces')}/discvae")
    dev = next(model.parameters()).device
    names = card["attribute_names"]
    y = torch.as_tensor(np.asarray(attributes, np.float32))
    if y.ndim != 2 or y.shape != (len(images), len(names)):
        raise AttributeInputError(f"attributes of shape {tuple(y.shape)}, expected ({len(images)}, {len(names)}): "
                                  f"one vector per image; attribute names: {', '.join(names)}")
    x = to_model_space(torch.from_numpy(np.ascontiguousarray(images))).to(dev)
    observed = None
    if occluder is not None:
        occ = occluder_masks(occluder, len(x), x.shape[-1], seed).to(dev)
        x, observed = occlude(x, occ), 1 - occ
    res = infer(model, x, y.to(dev), cfg, observed=observed)
    out = res.reconstruction if observed is None else torch.where(observed.bool().expand_as(x), x, res.reconstruction)
    return {"images": to_uint8(out), "z": res.z.cpu().numpy(), "energy": res.energy.cpu().numpy(),
            "evaluations": res.evaluations.cpu().numpy()}


def reconstruct(model_dir, images, attributes, cfg: InferenceConfig = InferenceConfig(), device="cpu") -> dict:
    """Reconstruct uint8 (N, 64, 64, 3) images: returns images, z, energy and decoder evaluations."""
    return _run(model_dir, images, attributes, None, cfg, device)


def complete(model_dir, images, attributes, occluder: str, cfg: InferenceConfig = InferenceConfig(),
             device="cpu", seed: int = 0) -> dict:
    """Occlude the images with ``occluder``, infer z from the rest, fill the occluded pixels."""
    return _run(model_dir, images, attributes, occluder, cfg, device, seed)


def add_arguments(p, occluder: bool = False) -> None:
    """The options of ``attr2img reconstruct`` (and, with ``occluder``, ``complete``)."""
    p.add_argument("--model", required=True, help="trained generator folder")
    p.add_argument("--images", required=True, nargs="+", help="image files or folders (64x64 RGB; others are resized)")
    p.add_argument("--attributes",
                   help="attribute vectors: a .npy (N, A) or text file with one vector per line, in image order; "
                        "default: predicted by the dataset's attribute regressor (see --regressor)")
    p.add_argument("--regressor", help="attribute regressor folder for predicting the attributes "
                                       "(default: the regressor beside --model)")
    if occluder:
        p.add_argument("--occluder", required=True, choices=OCCLUDERS, help="where to hide pixels")
    p.add_argument("--out", required=True, help="output folder (one PNG per image, plus latents.npy)")
    add_device_argument(p)


def main(args, params: dict) -> None:
    """Run ``reconstruct`` or ``complete`` (with ``args.occluder``) on the command line's images."""
    from skimage.io import imsave

    from attr2img.editing import Editor

    images, names = read_images(args.images)
    if args.attributes:
        y, source = read_attributes(args.attributes), f"read from {args.attributes}"
    else:
        editor = Editor(args.model, args.regressor, args.device or "cpu")
        y, source = editor.predict(images), f"predicted by the attribute regressor {editor.regressor_dir}"
    p = from_mapping(EvaluationConfig, params["inference"])
    cfg = from_mapping(InferenceConfig, vars(p), only_fields=True)
    device = args.device or from_mapping(TrainConfig, params["train"]).device
    out = _run(args.model, images, y, getattr(args, "occluder", None), cfg, device, seed=p.seed)
    with atomic_dir(args.out) as tmp:
        for name, img in zip(names, out["images"]):
            imsave(tmp / f"{name}.png", img, check_contrast=False)
        np.save(tmp / "latents.npy", out["z"])
        (tmp / "energies.json").write_text(json.dumps(
            {n: {"energy": float(e), "decoder_evaluations": int(k)}
             for n, e, k in zip(names, out["energy"], out["evaluations"])}, indent=2))
        (tmp / "attributes.json").write_text(json.dumps(
            {"attributes": source, "images": {n: [float(v) for v in row] for n, row in zip(names, y)}}, indent=2))
    print(f"wrote {len(names)} images to {args.out}; attributes {source}")
