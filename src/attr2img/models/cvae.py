"""CVAE (Yan et al. 2016, section 3.1) and its unconditional twin, the VAE baseline.

Recognition q(z | x, y): an image stream (ImageEncoder) and an attribute stream
(FC y -> z, ReLU) merged in a Gaussian head. Generation p(x | y, z): an attribute stream
(FC y -> 2z, ReLU) concatenated with z, then the ImageDecoder with one tanh head. The VAE
is the same network without y (``cfg.model == "vae"``: the attribute streams are absent
and y is ignored).

Loss (negative ELBO, per image, averaged over the batch): the reconstruction loss summed
over pixels + kl_weight * KL(q(z | x, y) || N(0, I)). During a KL warm-up (train.kl_warmup)
the training loop scales the KL weight by the ``kl_scale`` buffer; it is 1 otherwise.
"""

from __future__ import annotations

import torch
from torch import nn

from attr2img.models.config import ModelConfig
from attr2img.models.nets import (GaussianHead, ImageDecoder, ImageEncoder, kl_to_standard_normal,
                                  recon_loss, reparameterize)


class CVAE(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        ch, z, a = cfg.ch, cfg.latent.z, cfg.n_attributes
        self.latent_dim = z
        # recognition model q(z | x, y)
        self.enc_image = ImageEncoder((ch(64), ch(128), ch(256), ch(256), ch(1024), ch(1024)), cfg.dropout)
        self.enc_attr = nn.Sequential(nn.Linear(a, z), nn.ReLU()) if cfg.conditional else None
        self.posterior = GaussianHead(self.enc_image.out_features, z if cfg.conditional else 0, z)
        # generation model p(x | y, z)
        self.dec_attr = nn.Sequential(nn.Linear(a, 2 * z), nn.ReLU()) if cfg.conditional else None
        self.decoder = ImageDecoder(z + (2 * z if cfg.conditional else 0),
                                    (ch(256), ch(256), ch(256), ch(128), ch(64)), {"x": "tanh"})
        self.register_buffer("kl_scale", torch.ones(()), persistent=False)   # the KL warm-up's factor

    def encode(self, x: torch.Tensor, y: torch.Tensor):
        h_y = self.enc_attr(y) if self.cfg.conditional else None
        return self.posterior(self.enc_image(x), h_y)

    @torch.no_grad()
    def posterior_mean(self, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """The recognition model's mean of z for images ``x`` (the mask is not used)."""
        return self.encode(x, y)[0]

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean image mu(z, y) in [-1, 1]."""
        h = torch.cat([z, self.dec_attr(y)], dim=1) if self.cfg.conditional else z
        return self.decoder(h)["x"]

    def forward(self, x: torch.Tensor, y: torch.Tensor):
        mu, logvar = self.encode(x, y)
        return self.decode(reparameterize(mu, logvar), y), mu, logvar

    def loss(self, x: torch.Tensor, m: torch.Tensor, y: torch.Tensor):
        x_hat, mu, logvar = self(x, y)
        rec = recon_loss(x_hat, x, self.cfg.recon_loss)
        kl = kl_to_standard_normal(mu.float(), logvar.float())
        total = (rec + self.cfg.kl_weight * self.kl_scale * kl).mean()
        return total, {"recon": rec.mean(), "kl": kl.mean()}

    @torch.no_grad()
    def generate(self, y: torch.Tensor, n: int = 1, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples per attribute vector, z ~ N(0, I): (len(y) * n, 3, 64, 64), grouped by y."""
        y = y.repeat_interleave(n, dim=0)
        z = torch.randn(len(y), self.latent_dim, generator=generator, device="cpu").to(y.device)
        return self.decode(z, y)
