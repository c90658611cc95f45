"""Editing a photo's attributes: the API behind ``attr2img edit`` (and the explorer's upload).

>>> from attr2img.editing import Editor
>>> ed = Editor("models/synth-faces/discvae")            # the regressor: models/synth-faces/regressor
>>> out = ed.edit(images, {"Smiling": 2.0})               # images: (N, 64, 64, 3) uint8
>>> out["images"], out["before"], out["after"], out["predicted"]

The attributes of a photo come from a file when given, else the dataset's attribute regressor
predicts them. z is inferred by posterior inference from the recognition model's warm start
(paper section 4), y is changed, and the image is decoded again. For the disCVAE z = [z_F, z_B]
is kept whole, so the background stays; ``keep_background`` goes further and keeps the
photo's own pixels wherever the edited gate shows background.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from attr2img.atomic import atomic_dir
from attr2img.errors import AttributeInputError, ModelError, UsageError
from attr2img.generate import AttributeGenerator, parse_assignments
from attr2img.images import signed, to_model_space, to_uint8, unit
from attr2img.inference.posterior import InferenceConfig, infer
from attr2img.models.store import load_model

# the warm start and early stopping of the default run's Table 1 (params.yaml inference)
EDIT_INFERENCE = InferenceConfig(iterations=30, lr=0.3, lam=0.1, init="recognition", rtol=1e-3, patience=10)


class Editor:
    """A trained generator, the attribute regressor of its dataset, and what editing needs."""

    def __init__(self, model_dir, regressor_dir=None, device: str | torch.device = "cpu"):
        self.generator = AttributeGenerator(model_dir, device)
        self.model, self.card, self.device = self.generator.model, self.generator.card, self.generator.device
        self.names = self.generator.attribute_names
        self.regressor_dir = Path(regressor_dir) if regressor_dir else Path(model_dir).parent / "regressor"
        self._regressor = None

    @property
    def layered(self) -> bool:
        return self.card["model"] == "discvae"

    def regressor(self):
        """The attribute regressor (loaded on first use); it must read this model's attributes."""
        if self._regressor is None:
            if not (self.regressor_dir / "card.json").exists():
                raise ModelError(f"no attribute regressor at {self.regressor_dir} to predict the attributes: "
                                 f"train it (attr2img train --model regressor) or give the attributes")
            model, card = load_model(self.regressor_dir, self.device)
            if card["model"] != "regressor" or list(card["attribute_names"]) != self.names:
                raise ModelError(f"{self.regressor_dir} holds a {card['model']} for other attributes than "
                                 f"{self.card['dataset']}'s {self.card['model']}")
            self._regressor = model
        return self._regressor

    def images_tensor(self, images) -> torch.Tensor:
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (64, 64, 3):
            raise AttributeInputError(f"images must be uint8 (N, 64, 64, 3), got {images.dtype} {images.shape}")
        return to_model_space(torch.from_numpy(np.ascontiguousarray(images))).to(self.device)

    @torch.no_grad()
    def predict(self, images) -> np.ndarray:
        """The regressor's attributes for uint8 (N, 64, 64, 3) images: scores, or probabilities for
        binary attributes."""
        return self.regressor().predict(self.images_tensor(images)).float().cpu().numpy()

    def infer(self, images, attributes, cfg: InferenceConfig = EDIT_INFERENCE) -> np.ndarray:
        """z for each image given its attributes (the recognition warm start, then Adam)."""
        x = self.images_tensor(images)
        y = self.generator.check_vector(attributes).to(self.device)
        if len(y) != len(x):
            raise AttributeInputError(f"{len(y)} attribute vectors for {len(x)} images: give one per image")
        return infer(self.model, x, y, cfg).z.cpu().numpy()

    @torch.no_grad()
    def decode(self, z, attributes, background=None) -> dict:
        """Images (and, for the disCVAE, its layers) for latents ``z`` and attribute vectors.

        ``background``: uint8 images whose pixels replace the decoded background x_B (disCVAE only).
        Returns uint8 NHWC arrays: ``image``; for the disCVAE also ``foreground``, ``background``, ``gate``.
        """
        z = torch.as_tensor(np.asarray(z, np.float32)).to(self.device)
        y = self.generator.check_vector(attributes).to(self.device)
        if z.ndim != 2 or z.shape[1] != self.model.latent_dim or len(z) != len(y):
            raise AttributeInputError(f"z of shape {tuple(z.shape)}, expected ({len(y)}, {self.model.latent_dim})")
        if not self.layered:
            if background is not None:
                raise UsageError(f"keeping the background needs the layered disCVAE; this is the {self.card['model']}")
            return {"image": to_uint8(self.model.decode(z, y).float())}
        layers = self.model.decode_layers(*self.model.split(z), y)
        x_b = layers["x_bg"] if background is None else self.images_tensor(background)
        x = signed(unit(layers["x_fg"].float()) + layers["gate"].float() * unit(x_b.float()))
        return {"image": to_uint8(x), "foreground": to_uint8(layers["x_fg"].float()),
                "background": to_uint8(layers["x_bg"].float()), "gate": to_uint8(signed(layers["gate"].float()))}

    def edit(self, images, edits: dict[str, float], attributes=None, keep_background: bool = False,
             cfg: InferenceConfig = EDIT_INFERENCE) -> dict:
        """Edit the attributes of uint8 (N, 64, 64, 3) images: returns ``images`` (edited),
        ``reconstruction`` (unedited, same z), ``before`` and ``after`` attribute vectors,
        ``predicted`` (whether ``before`` came from the regressor) and ``z``."""
        if keep_background and not self.layered:
            raise UsageError(f"--keep-background needs the layered disCVAE; {self.card['model']} has no gate")
        predicted = attributes is None
        before = self.predict(images) if predicted else self.generator.check_vector(attributes).numpy()
        if len(before) != len(images):
            raise AttributeInputError(f"{len(before)} attribute vectors for {len(images)} images: give one per image")
        after = np.stack([self.generator.attribute_vector(edits, base=b) for b in before])
        z = self.infer(images, before, cfg)
        bg = images if keep_background else None
        return {"images": self.decode(z, after, bg)["image"], "reconstruction": self.decode(z, before, bg)["image"],
                "before": before, "after": after, "predicted": predicted, "z": z}


def strip(originals, reconstructions, edited, names, out) -> None:
    """A before/after PNG: one row per image (photo, reconstruction, edited)."""
    from attr2img.figures.common import plt, save_png

    n = len(originals)
    fig, axes = plt.subplots(n, 3, figsize=(6.0, 2.0 * n + 0.4), squeeze=False)
    for r in range(n):
        for c, (title, img) in enumerate((("photo", originals[r]), ("reconstruction", reconstructions[r]),
                                          ("edited", edited[r]))):
            axes[r, c].imshow(img, interpolation="nearest")
            axes[r, c].set_xticks([]), axes[r, c].set_yticks([])
            if r == 0:
                axes[r, c].set_title(title, fontsize=9)
        axes[r, 0].set_ylabel(names[r], fontsize=8)
    fig.tight_layout()
    save_png(fig, out)


# -- the edit command ---------------------------------------------------------------------------
PARAMS = False      # a tool over trained models: everything it needs is in the model folders and the options


def add_arguments(p) -> None:
    p.add_argument("--model", required=True, help="trained generator folder, e.g. models/synth-faces/discvae")
    p.add_argument("--images", required=True, nargs="+", help="image files or folders (64x64 RGB; others are resized)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="an attribute edit, e.g. --set Smiling=2 (repeatable)")
    p.add_argument("--attributes", help="the images' attribute vectors (.npy or text, one per image); "
                                        "default: predicted by the dataset's attribute regressor")
    p.add_argument("--regressor", help="attribute regressor folder (default: the regressor beside --model)")
    p.add_argument("--keep-background", action="store_true",
                   help="disCVAE only: keep the photo's own pixels where the edited gate shows background")
    p.add_argument("--iterations", type=int, default=EDIT_INFERENCE.iterations,
                   help=f"posterior-inference iterations at most (default {EDIT_INFERENCE.iterations})")
    p.add_argument("--out", required=True, help="output folder: edited PNGs, strip.png, attributes.json")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")


def main(args, params: dict | None = None) -> None:
    from skimage.io import imsave

    from attr2img.inference.api import read_attributes, read_images

    if args.iterations < 1:
        raise UsageError(f"--iterations must be at least 1, got {args.iterations}")
    editor = Editor(args.model, args.regressor, args.device)
    edits = parse_assignments(args.set)
    images, names = read_images(args.images)
    y = read_attributes(args.attributes) if args.attributes else None
    out = editor.edit(images, edits, y, args.keep_background, replace(EDIT_INFERENCE, iterations=args.iterations))
    source = f"predicted by the attribute regressor {editor.regressor_dir}" if out["predicted"] \
        else f"read from {args.attributes}"
    record = {"model": str(args.model), "attributes": source, "edits": edits, "keep_background": args.keep_background,
              "images": {n: {"before": dict(zip(editor.names, map(float, b))),
                             "after": dict(zip(editor.names, map(float, a)))}
                         for n, b, a in zip(names, out["before"], out["after"])}}
    with atomic_dir(args.out) as tmp:
        for name, img in zip(names, out["images"]):
            imsave(tmp / f"{name}.png", img, check_contrast=False)
        strip(images, out["reconstruction"], out["images"], names, tmp / "strip.png")
        (tmp / "attributes.json").write_text(json.dumps(record, indent=2))
    print(f"wrote {len(names)} edited images, strip.png and attributes.json to {args.out}; attributes {source}")
