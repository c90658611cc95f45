"""The paper's networks: VAE, CVAE, the layered disCVAE, and the attribute regressor.

Each model class is paired with a typed config (``attr2img.models.config``) and exposes the
same small interface: ``loss(x, m, y)`` for training, and for the generators
``latent_dim``, ``decode(z, y)`` (images in [-1, 1]) and ``generate(y, n, generator)``.
"""

from attr2img.models.config import ModelConfig
from attr2img.models.cvae import CVAE
from attr2img.models.discvae import DisCVAE
from attr2img.models.regressor import AttributeRegressor

MODELS = {"vae": CVAE, "cvae": CVAE, "discvae": DisCVAE, "regressor": AttributeRegressor}
GENERATORS = ("vae", "cvae", "discvae")


def build_model(cfg: ModelConfig):
    return MODELS[cfg.model](cfg)


__all__ = ["ModelConfig", "CVAE", "DisCVAE", "AttributeRegressor", "MODELS", "GENERATORS", "build_model"]
