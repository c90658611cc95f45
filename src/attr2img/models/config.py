"""The typed configuration paired with every model (one dataclass, saved in the model card)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


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
    z_dim: int = 256                 # VAE and CVAE latent size
    zf_dim: int = 192                # disCVAE foreground latent size
    zb_dim: int = 64                 # disCVAE background latent size
    dropout: float = 0.5             # on the encoders' image stream only
    recon_loss: str = "smoothl1"     # smoothl1 (authors' code) | l2 (paper's text)
    kl_weight: float = 1.0
    gate_weight: float = 0.3         # lambda_g

    def __post_init__(self):
        from attr2img.models import MODELS

        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        if self.recon_loss not in ("smoothl1", "l2"):
            raise ValueError(f"recon_loss must be 'smoothl1' or 'l2', got {self.recon_loss!r}")
        if self.attribute_kind not in ("continuous", "binary"):
            raise ValueError(f"attribute_kind must be 'continuous' or 'binary', got {self.attribute_kind!r}")
        if self.image_size != 64:
            raise ValueError(f"the paper's networks are built for 64x64 images, got {self.image_size}")

    @property
    def conditional(self) -> bool:
        return self.model != "vae"

    def ch(self, c: int) -> int:
        """A paper channel count scaled by the width multiplier."""
        return max(4, int(round(c * self.width)))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys {sorted(unknown)}")
        return cls(**d)
