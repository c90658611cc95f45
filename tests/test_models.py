"""The networks, layer for layer, and the disCVAE's defining properties."""

import dataclasses
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from attr2img.models import CVAE, AttributeRegressor, DisCVAE, ModelConfig, build_model
from attr2img.models.config import Latent
from attr2img.models.nets import ImageDecoder, ImageEncoder, UpConv2d, kl_to_standard_normal
from conftest import GENERATORS, MODELS

A = 73  # LFW


def conv(cin, cout, k, bn=True):
    return cin * cout * k * k + (2 * cout if bn else cout)   # BN: weight + bias; else conv bias


def lin(i, o):
    return i * o + o


def encoder_params(c=(64, 128, 256, 256, 1024, 1024)):
    c1, c2, c3, c4, c5, fc = c
    return (conv(3, c1, 5, bn=False) + conv(c1, c2, 5) + conv(c2, c3, 3) + conv(c3, c4, 3)
            + conv(c4, c5, 4, bn=False) + lin(c5, fc))


def decoder_params(d_in, heads):
    return (lin(d_in, 256) + lin(256, 256 * 64) + conv(256, 256, 3) + conv(256, 256, 5)
            + conv(256, 128, 5) + conv(128, 64, 5) + heads * conv(64, 3, 5, bn=False))


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_cvae_parameter_count_at_paper_width():
    z = 256
    expected = (encoder_params() + lin(A, z) + lin(1024 + z, z) + lin(1024, z)    # recognition
                + lin(A, 2 * z) + decoder_params(z + 2 * z, heads=1))             # generation
    assert count(CVAE(ModelConfig("cvae", A))) == expected


def test_vae_is_the_cvae_without_attributes():
    z = 256
    expected = encoder_params() + lin(1024, z) + lin(1024, z) + decoder_params(z, heads=1)
    assert count(CVAE(ModelConfig("vae", A))) == expected


def test_discvae_parameter_count_at_paper_width():
    zf, zb = 192, 64
    fg = encoder_params() + lin(A, zf) + lin(1024 + zf, zf) + lin(1024, zf)
    bg = encoder_params((64, 64, 64, 64, 256, 256)) + lin(256 + A + zf, 256) + lin(256, zb) + lin(256, zb)
    dec_fg = lin(A, 2 * zf) + decoder_params(zf + 2 * zf, heads=2)
    dec_bg = (lin(zb, 256 * 4) + conv(256, 128, 3) + conv(128, 128, 3) + conv(128, 64, 3) + conv(64, 64, 3)
              + conv(64, 64, 3) + conv(64, 64, 3) + conv(64, 32, 5) + conv(32, 3, 5, bn=False))
    assert count(DisCVAE(ModelConfig("discvae", A, latent=Latent(z_fg=zf, z_bg=zb)))) == fg + bg + dec_fg + dec_bg


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_shapes_and_range(name):
    model = build_model(ModelConfig(name, 17, width=0.125)).eval()
    y = torch.randn(3, 17)
    x = model.generate(y, n=2, generator=torch.Generator().manual_seed(0))
    assert x.shape == (6, 3, 64, 64)
    assert model.decode(torch.randn(4, model.latent_dim), torch.randn(4, 17)).shape == (4, 3, 64, 64)
    assert -1 <= x.min() and x.max() <= 1 or name == "discvae"   # the composite may exceed 1


def test_regressor_shapes_and_binary_predictions_are_probabilities():
    reg = AttributeRegressor(ModelConfig("regressor", 23, attribute_kind="binary", width=0.125)).eval()
    p = reg.predict(torch.randn(5, 3, 64, 64))
    assert p.shape == (5, 23) and (p >= 0).all() and (p <= 1).all()


def test_regressor_networks_each_predict_their_own_attribute_columns():
    """With ``networks``, each attribute comes from its own network: a network's last layer set to
    a constant shows in exactly its columns, in the attributes' order."""
    from attr2img.models.config import network_columns
    names = ["colour::a", "colour::b", "bill::x", "size::s", "bill::y", "colour::c"]
    nets = network_columns([["colour"], ["bill"]], names)
    assert nets == ((0, 1, 5), (2, 4), (3,))                 # the unnamed attribute forms a third network
    reg = AttributeRegressor(ModelConfig("regressor", 6, attribute_kind="binary", width=0.125, networks=nets)).eval()
    assert len(reg.nets) == 3
    with torch.no_grad():
        for k, net in enumerate(reg.nets):
            net[-1].weight.zero_()
            net[-1].bias.fill_(float(k + 1))
    out = reg(torch.randn(2, 3, 64, 64))
    assert out[0].tolist() == [1.0, 1.0, 2.0, 3.0, 2.0, 1.0]
    cfg = ModelConfig.from_dict({**reg.cfg.to_dict(), "networks": [[0, 1, 5], [2, 4], [3]]})   # a card's JSON
    assert cfg == reg.cfg


def test_regressor_networks_errors_name_the_problem():
    from attr2img.errors import UsageError
    from attr2img.models.config import network_columns
    names = ["colour::a", "bill::x"]
    with pytest.raises(UsageError, match="no attribute name starts with 'beak'"):
        network_columns([["beak"]], names)
    with pytest.raises(UsageError, match="'bill::x' is in networks 0 and 1"):
        network_columns([["bill"], ["bill::x"]], names)
    with pytest.raises(ValueError, match="each exactly once"):
        ModelConfig("regressor", 3, networks=((0, 1), (1, 2)))
    with pytest.raises(ValueError, match="cvae has one network"):
        ModelConfig("cvae", 2, networks=((0,), (1,)))


@pytest.fixture
def dis():
    torch.manual_seed(0)
    return DisCVAE(ModelConfig("discvae", 17, width=0.125, latent=Latent(z_fg=12, z_bg=8))).eval()


def _set_gate(model, bias):
    head, i = model.dec_fg.head, list(model.dec_fg.acts).index("gate")   # its 3 channels of the merged head
    with torch.no_grad():
        head.weight[3 * i:3 * i + 3].zero_()
        head.bias[3 * i:3 * i + 3].fill_(bias)


def test_composition_is_eq4_on_unit_pixels(dis):
    zf, zb, y = torch.randn(2, 12), torch.randn(2, 8), torch.randn(2, 17)
    _set_gate(dis, -60.0)                      # g = 0: the background is hidden
    out = dis.decode_layers(zf, zb, y)
    assert torch.allclose(out["x"], out["x_fg"], atol=1e-5)
    _set_gate(dis, 60.0)                       # g = 1: x = x_F + x_B with pixels on [0, 1]
    out = dis.decode_layers(zf, zb, y)
    expected = ((out["x_fg"] + 1) / 2 + (out["x_bg"] + 1) / 2) * 2 - 1
    assert torch.allclose(out["x"], expected, atol=1e-5)


def test_gate_target_is_the_background_mask(dis):
    _set_gate(dis, 60.0)                       # g = 1 everywhere: "background visible"
    x, y = torch.rand(2, 3, 64, 64) * 2 - 1, torch.randn(2, 17)
    _, parts_bg = dis.loss(x, torch.zeros(2, 1, 64, 64), y)    # all background
    _, parts_fg = dis.loss(x, torch.ones(2, 1, 64, 64), y)     # all foreground
    assert parts_bg["gate_bce"] < 1e-3 < 1000 < parts_fg["gate_bce"]


def test_background_posterior_receives_z_fg_and_background_decoder_ignores_y(dis):
    x, y = torch.rand(1, 3, 64, 64) * 2 - 1, torch.randn(1, 17)
    m1, m2 = torch.zeros(1, 1, 64, 64), torch.zeros(1, 1, 64, 64)
    m1[..., 16:48, 16:48] = 1
    m2[..., 8:40, 20:60] = 1
    # same full image and y, different mask: only z_F changes, and it must reach q(z_B | z_F, x, y)
    zf1, _, (mu_b1, _) = dis.encode(x, m1, y, sample=False)
    zf2, _, (mu_b2, _) = dis.encode(x, m2, y, sample=False)
    assert not torch.allclose(zf1, zf2) and not torch.allclose(mu_b1, mu_b2)
    zf, zb = torch.randn(1, 12), torch.randn(1, 8)
    a, b = dis.decode_layers(zf, zb, torch.randn(1, 17)), dis.decode_layers(zf, zb, torch.randn(1, 17))
    assert torch.equal(a["x_bg"], b["x_bg"]) and not torch.allclose(a["x_fg"], b["x_fg"])


@pytest.mark.parametrize("name", MODELS)
def test_dropout_only_on_the_image_stream(name):
    model = build_model(ModelConfig(name, 17, width=0.125))
    encoders = [m for m in model.modules() if isinstance(m, ImageEncoder)]
    inside = {id(d) for e in encoders for d in e.modules() if isinstance(d, nn.Dropout)}
    everywhere = {id(d) for d in model.modules() if isinstance(d, nn.Dropout)}
    assert inside and inside == everywhere


def test_attribute_stream_is_deterministic_in_training_mode():
    model = CVAE(ModelConfig("cvae", 17, width=0.125)).train()
    y = torch.randn(4, 17)
    assert torch.equal(model.enc_attr(y), model.enc_attr(y))
    x = torch.randn(4, 3, 64, 64)
    assert not torch.equal(model.enc_image(x), model.enc_image(x))      # dropout is active


def test_analytic_kl_matches_monte_carlo():
    torch.manual_seed(0)
    mu, logvar = torch.randn(1, 5) * 0.7, torch.randn(1, 5) * 0.5
    std = (0.5 * logvar).exp()
    z = mu + std * torch.randn(200_000, 5)
    log_q = (-0.5 * ((z - mu) / std) ** 2 - torch.log(std) - 0.5 * math.log(2 * math.pi)).sum(1)
    log_p = (-0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)).sum(1)
    mc = (log_q - log_p).mean()
    assert abs(float(kl_to_standard_normal(mu, logvar)[0]) - float(mc)) < 0.02


@pytest.mark.parametrize("name", ["cvae", "discvae"])
def test_tiny_overfit_loss_falls(name):
    from attr2img.data import synth
    from attr2img.images import to_model_space

    torch.manual_seed(0)
    d = synth.generate("synth-faces", 8, 0)
    x, m = to_model_space(torch.from_numpy(d["images"]), torch.from_numpy(d["masks"]))
    y = torch.from_numpy(d["attributes"])
    model = build_model(ModelConfig(name, y.shape[1], width=0.125, latent=Latent(z=16, z_fg=16, z_bg=8)))
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    losses = []
    for _ in range(60):
        loss, _ = model.loss(x, m, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert sum(losses[-5:]) / 5 < 0.5 * losses[0]


def test_config_errors_name_the_choices(default_params):
    import copy

    from attr2img.params import ParamsError, validate

    with pytest.raises(ValueError, match="vae, cvae, discvae, regressor"):
        ModelConfig("gan", 5)
    # the allowed values of params.yaml's keys are the schema's alone: it names them
    params = copy.deepcopy(default_params)
    params["model"]["recon_loss"] = "l1"
    with pytest.raises(ParamsError, match="smoothl1"):
        validate(params)


def test_model_config_fields_are_the_params_keys(default_params):
    cfg = ModelConfig.from_params(default_params["model"], model="discvae", dataset="synth-birds",
                                  attribute_names=[f"a{i}" for i in range(5)], attribute_kind="binary",
                                  image_size=64)
    section = default_params["model"]
    assert cfg.latent == Latent(**section["latent"]["synth-birds"]) and cfg.n_attributes == 5
    assert all(getattr(cfg, k) == v for k, v in section.items() if k != "latent")
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg          # the card round-trips


def test_a_card_keeps_the_fields_its_model_reads_and_needs_them(default_params):
    """A VAE's card has no gate weight and no z_F; a disCVAE's no single z; the regressor's no
    latent. A card that lacks a field its model reads is refused, naming it; a card of the
    earlier kind, with every field, still loads."""
    def cfg(model):
        return ModelConfig.from_params(default_params["model"], model=model, dataset="synth-faces",
                                       attribute_names=["a", "b"], attribute_kind="continuous", image_size=64)

    vae, dis = cfg("vae").to_dict(), cfg("discvae").to_dict()
    assert "gate_weight" not in vae and vae["latent"] == {"z": default_params["model"]["latent"]["synth-faces"]["z"]}
    assert set(dis["latent"]) == {"z_fg", "z_bg"} and dis["gate_weight"] == default_params["model"]["gate_weight"]
    assert "latent" not in ModelConfig(model="regressor", n_attributes=2).to_dict()
    # what the model reads must be in its card
    del dis["latent"]["z_bg"]
    with pytest.raises(ValueError, match="lacks latent.z_bg"):
        ModelConfig.from_dict(dis)
    with pytest.raises(ValueError, match="lacks kl_weight"):
        ModelConfig.from_dict({k: v for k, v in vae.items() if k != "kl_weight"})
    # a card written before the narrowing (every field) gives the same config
    full = {**dataclasses.asdict(cfg("vae")), "networks": []}
    assert ModelConfig.from_dict(full).to_dict() == vae


@pytest.mark.parametrize("k", [3, 5])
def test_upconv_is_nearest_upsampling_then_the_convolution(k):
    """The sub-pixel form (k = 5) and the direct form (k = 3) compute the same function as
    upsampling then convolving, values and gradients (to the input and to the 5x5 weights)."""
    torch.manual_seed(0)
    conv = UpConv2d(6, 5, k)
    x = torch.randn(2, 6, 7, 9, requires_grad=True)        # odd, non-square: every border case
    ours = conv(x)
    ref = F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), conv.weight, conv.bias, padding=k // 2)
    assert ours.shape == ref.shape == (2, 5, 14, 18)
    assert torch.allclose(ours, ref, atol=1e-5)
    g = torch.randn_like(ref)
    ga = torch.autograd.grad(ours, [x, conv.weight, conv.bias], g)
    gb = torch.autograd.grad(ref, [x, conv.weight, conv.bias], g)
    for a, b in zip(ga, gb):
        assert torch.allclose(a, b, atol=1e-4)
    conv.freeze()                                          # the inference copy's precomputed kernel
    with torch.no_grad():
        conv.weight.zero_()                                # a frozen kernel no longer reads the weights...
        frozen = conv(x)
    if k == 5:
        assert torch.allclose(frozen, ours, atol=1e-5)     # ...and computes what they did
        conv.double()                                      # the frozen kernel moves with the module
        assert conv.frozen_weight.dtype == torch.float64
        assert torch.allclose(conv(x.detach().double()).float(), frozen, atol=1e-5)
        assert "frozen_weight" not in conv.state_dict()    # and is not saved with the weights
    else:
        assert conv.frozen_weight is None                  # the direct form has nothing to freeze
        assert torch.allclose(frozen, conv.bias.view(1, -1, 1, 1).expand_as(frozen))


def test_an_unknown_head_activation_fails_when_the_decoder_is_built():
    with pytest.raises(ValueError, match="'softplus'.*known: \\['logits', 'sigmoid', 'tanh'\\]"):
        ImageDecoder(10, (16, 8, 8, 8, 4), {"x": "tanh", "y": "softplus"})


def test_merged_heads_are_separate_convolutions_with_their_activations():
    torch.manual_seed(0)
    dec = ImageDecoder(10, (16, 8, 8, 8, 4), {"x": "tanh", "gate": "logits"}).eval()
    h = torch.randn(3, 10)
    out = dec(h)
    f = dec.body(dec.fc(h).view(-1, 8, 8, 8))
    w, b = dec.head.weight, dec.head.bias
    assert torch.allclose(out["x"], torch.tanh(F.conv2d(f, w[:3], b[:3], padding=2)), atol=1e-6)
    assert torch.allclose(out["gate"], F.conv2d(f, w[3:], b[3:], padding=2), atol=1e-6)
    # each head is its own dense channels-last tensor, not a strided slice of the joint output
    assert all(o.is_contiguous(memory_format=torch.channels_last) for o in out.values())
