"""The paper's networks: VAE, CVAE, the layered disCVAE, and the attribute regressor.

Each model class is paired with a typed config (``attr2img.models.config``) and exposes the
same small interface: ``loss(x, m, y)`` for training, and for the generators
``latent_dim``, ``decode(z, y)`` (images in [-1, 1]), ``generate(y, n, generator)`` and
``posterior_mean(x, y, mask)`` (the recognition model's mean of z, as one vector).
"""

from attr2img.catalog import GENERATORS
from attr2img.models.config import ModelConfig
from attr2img.models.cvae import CVAE
from attr2img.models.discvae import DisCVAE
from attr2img.models.regressor import AttributeRegressor

CLASSES = {"vae": CVAE, "cvae": CVAE, "discvae": DisCVAE, "regressor": AttributeRegressor}


def build_model(cfg: ModelConfig):
    return CLASSES[cfg.model](cfg)


__all__ = ["ModelConfig", "CVAE", "DisCVAE", "AttributeRegressor", "CLASSES", "GENERATORS", "build_model"]
