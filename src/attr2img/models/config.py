"""The typed configuration paired with every model (one frozen dataclass, saved in the model card).

Its fields are params.yaml's ``model`` keys, spelt as there (``latent`` is the dataset's entry
of ``model.latent``), plus what the dataset decides: the model name, the attribute count and
kind, and the image size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from attr2img.catalog import MODELS
from attr2img.config import from_mapping, to_mapping


@dataclass(frozen=True)
class Latent:
    z: int = 256                     # VAE and CVAE latent size
    z_fg: int = 192                  # disCVAE foreground latent size
    z_bg: int = 64                   # disCVAE background latent size


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a network; ``width`` scales every channel count.

    At ``width=1.0`` the networks are the paper's (faces: z 256 for VAE/CVAE, z_F 192 +
    z_B 64 for the disCVAE; birds: z_F 128 + z_B 128).
    """

    model: str                       # vae | cvae | discvae | regressor
    n_attributes: int                # A, the attribute-vector length
    attribute_kind: str = "continuous"   # continuous | binary (the regressor's loss)
    image_size: int = 64
    width: float = 1.0
    dropout: float = 0.5             # on the encoders' image stream only
    recon_loss: str = "smoothl1"     # smoothl1 (authors' code) | l2 (paper's text)
    kl_weight: float = 1.0
    gate_weight: float = 0.3         # lambda_g
    latent: Latent = field(default_factory=Latent)

    def __post_init__(self):
        # what params.yaml's schema cannot check: the name and size come from the stage and
        # the dataset, and a model card may have been edited by hand
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        if self.image_size != 64:
            raise ValueError(f"the paper's networks are built for 64x64 images, got {self.image_size}")

    @property
    def conditional(self) -> bool:
        return self.model != "vae"

    def ch(self, c: int) -> int:
        """A paper channel count scaled by the width multiplier."""
        return max(4, int(round(c * self.width)))

    def to_dict(self) -> dict:
        return to_mapping(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        return from_mapping(cls, d)

    @classmethod
    def from_params(cls, section: dict, *, model: str, dataset: str, n_attributes: int, attribute_kind: str,
                    image_size: int) -> "ModelConfig":
        """params.yaml's ``model`` section for ``dataset``, with what the dataset decides."""
        keys = {k: v for k, v in section.items() if k != "latent"}
        return from_mapping(cls, keys, latent=section["latent"][dataset], model=model, n_attributes=n_attributes,
                            attribute_kind=attribute_kind, image_size=image_size)
