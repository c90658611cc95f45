"""Posterior inference on your own images: the API behind ``attr2img reconstruct`` and ``complete``.

>>> from attr2img.inference.api import reconstruct, complete
>>> out = reconstruct("models/synth-faces/discvae", images, attributes)        # images: (N, 64, 64, 3) uint8
>>> out = complete("models/synth-faces/cvae", images, attributes, "eyes")
>>> out["images"], out["z"], out["energy"]
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from attr2img.atomic import atomic_dir
from attr2img.config import from_mapping
from attr2img.device import add_device_argument, resolve_device
from attr2img.errors import AttributeInputError
from attr2img.images import to_model_space, to_uint8
from attr2img.inference.config import EvaluationConfig
from attr2img.inference.occluders import occlude, occluder_masks
from attr2img.inference.posterior import InferenceConfig, infer
from attr2img.models.store import load_model
from attr2img.train.config import TrainConfig

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff")


def read_images(paths) -> tuple[np.ndarray, list[str]]:
    """Image files or folders of images -> uint8 (N, 64, 64, 3) (resized when needed) and names."""
    from skimage.io import imread
    from skimage.transform import resize

    files = []
    for p in map(Path, paths):
        files += sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES) if p.is_dir() else [p]
    if not files:
        raise AttributeInputError(f"no images found in {', '.join(map(str, paths))}")
    out = []
    for f in files:
        try:
            img = imread(f)
        except (OSError, ValueError, SyntaxError) as exc:
            raise AttributeInputError(f"cannot read image {f}: {exc}") from None
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        img = img[..., :3]
        if img.shape[:2] != (64, 64):
            img = (resize(img, (64, 64), anti_aliasing=True, preserve_range=True)).round()
        out.append(np.clip(img, 0, 255).astype(np.uint8))
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
    p.add_argument("--attributes", required=True,
                   help="attribute vectors: a .npy (N, A) or text file with one vector per line, in image order")
    if occluder:
        p.add_argument("--occluder", required=True, help="eyes, mouth, face, right_half, block8 or block16")
    p.add_argument("--out", required=True, help="output folder (one PNG per image, plus latents.npy)")
    add_device_argument(p)


def main(args, params: dict) -> None:
    """Run ``reconstruct`` or ``complete`` (with ``args.occluder``) on the command line's images."""
    from skimage.io import imsave

    images, names = read_images(args.images)
    y = read_attributes(args.attributes)
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
    print(f"wrote {len(names)} images to {args.out}")
