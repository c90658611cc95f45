"""disCVAE: the layered foreground/background model (Yan et al. 2016, section 3.2).

Generation: z_F ~ N(0, I), z_B ~ N(0, I);
    x_F, g = foreground decoder(z_F, y)     (image head tanh, gate head sigmoid)
    x_B    = background decoder(z_B)        (no y)
    x      = x_F + g * x_B                  (paper eq. 4)
Recognition: q(z_F | x_F, y) from the masked image x * m, and q(z_B | z_F, x, y) from the
full image, y and the *sampled* z_F (the z_F -> z_B connection exists only here).

Pixel scale of the composition (our decision): eq. 4 is applied with pixels on [0, 1], where
the masked foreground target x * m is 0 off the object, exactly as the paper writes it; the
tanh outputs (on [-1, 1]) are mapped there and the composite mapped back to [-1, 1]. In
[-1, 1] the background of x_F would sit at -1 and x_F + g * x_B could not reach bright
backgrounds.

Loss (authors' code / paper eq. 7), per image, summed over pixels, averaged over the batch:
    L(x_F, x*m) + L(x, x_hat) + lambda_g * BCE(g, 1 - m) + kl_weight * (KL_F + KL_B)
The gate's target is the *background* mask 1 - m: g says where the background shows. During a
KL warm-up (train.kl_warmup) the training loop scales kl_weight by the ``kl_scale`` buffer (1
otherwise).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from attr2img.images import signed, unit
from attr2img.models.config import ModelConfig
from attr2img.models.nets import (GaussianHead, ImageDecoder, ImageEncoder, conv_bn_relu,
                                  kl_to_standard_normal, recon_loss, reparameterize)


class BackgroundDecoder(nn.Module):
    """z_B -> x_B. Paper widths: FC z_B -> 256*2*2; up-conv blocks 256->128 (4x4), 128->128 (8x8),
    128->64 + 64->64 (16x16), 64->64 + 64->64 (32x32), 64->32 k5 (64x64); conv 32->3 k5, tanh.
    Kernel size 3 where the paper does not give one."""

    def __init__(self, zb: int, ch):
        super().__init__()
        self.c0 = ch(256)
        self.fc = nn.Sequential(nn.Linear(zb, self.c0 * 2 * 2), nn.ReLU(inplace=True))
        self.body = nn.Sequential(
            *conv_bn_relu(self.c0, ch(128), 3, up=True),                                   # 4x4
            *conv_bn_relu(ch(128), ch(128), 3, up=True),                                   # 8x8
            *conv_bn_relu(ch(128), ch(64), 3, up=True), *conv_bn_relu(ch(64), ch(64), 3),  # 16x16
            *conv_bn_relu(ch(64), ch(64), 3, up=True), *conv_bn_relu(ch(64), ch(64), 3),   # 32x32
            *conv_bn_relu(ch(64), ch(32), 5, up=True),                                     # 64x64
            nn.Conv2d(ch(32), 3, 5, padding=2), nn.Tanh(),
        )

    def forward(self, zb: torch.Tensor) -> torch.Tensor:
        return self.body(self.fc(zb).view(-1, self.c0, 2, 2).contiguous(memory_format=torch.channels_last))


class DisCVAE(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        ch, zf, zb, a = cfg.ch, cfg.latent.z_fg, cfg.latent.z_bg, cfg.n_attributes
        self.latent_dim = zf + zb          # z = [z_F, z_B] for posterior inference
        # recognition: foreground q(z_F | x_F, y)
        self.enc_fg = ImageEncoder((ch(64), ch(128), ch(256), ch(256), ch(1024), ch(1024)), cfg.dropout)
        self.enc_fg_attr = nn.Sequential(nn.Linear(a, zf), nn.ReLU())
        self.post_fg = GaussianHead(self.enc_fg.out_features, zf, zf)
        # recognition: background q(z_B | z_F, x, y)
        self.enc_bg = ImageEncoder((ch(64), ch(64), ch(64), ch(64), ch(256), ch(256)), cfg.dropout)
        self.enc_bg_merge = nn.Sequential(nn.Linear(self.enc_bg.out_features + a + zf, ch(256)), nn.ReLU())
        self.post_bg = GaussianHead(ch(256), 0, zb)
        # generation: foreground (x_F and gate logits from z_F, y), background (x_B from z_B)
        self.dec_fg_attr = nn.Sequential(nn.Linear(a, 2 * zf), nn.ReLU())
        self.dec_fg = ImageDecoder(zf + 2 * zf, (ch(256), ch(256), ch(256), ch(128), ch(64)),
                                   {"x": "tanh", "gate": "logits"})
        self.dec_bg = BackgroundDecoder(zb, ch)
        self.register_buffer("kl_scale", torch.ones(()), persistent=False)   # the KL warm-up's factor

    # -- recognition -------------------------------------------------------------------------
    def encode(self, x: torch.Tensor, m: torch.Tensor, y: torch.Tensor, sample: bool = True):
        """Posterior parameters; z_F is sampled (or its mean, with ``sample=False``) for q(z_B|...)."""
        x_fg = foreground_target(x, m)
        mu_f, lv_f = self.post_fg(self.enc_fg(x_fg), self.enc_fg_attr(y))
        z_f = reparameterize(mu_f, lv_f) if sample else mu_f
        h_b = self.enc_bg_merge(torch.cat([self.enc_bg(x), y, z_f], dim=1))
        mu_b, lv_b = self.post_bg(h_b, None)
        return z_f, (mu_f, lv_f), (mu_b, lv_b)

    @torch.no_grad()
    def posterior_mean(self, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """[mean of z_F, mean of z_B] for images ``x``. The foreground encoder sees ``x * mask``;
        without a mask, the model's own gate at z = 0 says where the foreground is."""
        if mask is None:
            gate = self.decode_layers(*self.split(torch.zeros(len(x), self.latent_dim, device=x.device)), y)["gate"]
            mask = (1 - gate.mean(1, keepdim=True) >= 0.5).float()
        z_f, _, (mu_b, _) = self.encode(x, mask, y, sample=False)
        return torch.cat([z_f, mu_b], 1)

    def split(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z = [z_F, z_B] -> (z_F, z_B)."""
        return z[:, :self.cfg.latent.z_fg], z[:, self.cfg.latent.z_fg:]

    # -- generation --------------------------------------------------------------------------
    def decode_layers(self, z_f: torch.Tensor, z_b: torch.Tensor, y: torch.Tensor) -> dict:
        """Every layer: foreground x_F, gate g (in [0, 1]), background x_B, composite x, all
        images in [-1, 1]; plus the gate's logits."""
        out = self.dec_fg(torch.cat([z_f, self.dec_fg_attr(y)], dim=1))
        x_f, gate_logits = out["x"], out["gate"]
        g = torch.sigmoid(gate_logits)
        x_b = self.dec_bg(z_b)
        x = signed(unit(x_f) + g * unit(x_b))     # eq. 4 on [0, 1]
        return {"x": x, "x_fg": x_f, "gate": g, "x_bg": x_b, "gate_logits": gate_logits}

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.decode_layers(*self.split(z), y)["x"]

    # -- training ----------------------------------------------------------------------------
    def loss(self, x: torch.Tensor, m: torch.Tensor, y: torch.Tensor):
        z_f, (mu_f, lv_f), (mu_b, lv_b) = self.encode(x, m, y)
        out = self.decode_layers(z_f, reparameterize(mu_b, lv_b), y)
        kind = self.cfg.recon_loss
        rec_fg = recon_loss(out["x_fg"], foreground_target(x, m), kind)
        rec = recon_loss(out["x"], x, kind)
        gate_target = (1.0 - m).expand_as(out["gate_logits"])          # background visibility
        gate = F.binary_cross_entropy_with_logits(out["gate_logits"].float(), gate_target.float(),
                                                  reduction="none").flatten(1).sum(1)
        kl_f = kl_to_standard_normal(mu_f.float(), lv_f.float())
        kl_b = kl_to_standard_normal(mu_b.float(), lv_b.float())
        total = (rec_fg + rec + self.cfg.gate_weight * gate + self.cfg.kl_weight * self.kl_scale * (kl_f + kl_b)).mean()
        return total, {"recon_fg": rec_fg.mean(), "recon": rec.mean(), "gate_bce": gate.mean(),
                       "kl_fg": kl_f.mean(), "kl_bg": kl_b.mean()}

    @torch.no_grad()
    def generate(self, y: torch.Tensor, n: int = 1, generator: torch.Generator | None = None,
                 layers: bool = False):
        """``n`` samples per attribute vector from the prior; ``layers=True`` returns every layer."""
        y = y.repeat_interleave(n, dim=0)
        z = torch.randn(len(y), self.latent_dim, generator=generator, device="cpu").to(y.device)
        out = self.decode_layers(*self.split(z), y)
        return out if layers else out["x"]


def foreground_target(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """x * m on [0, 1], mapped to [-1, 1]: the object on a background of -1."""
    return signed(unit(x) * m)
