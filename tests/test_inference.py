"""Posterior inference by optimisation, occluders and completion."""

import copy

import pytest
import torch
from torch import nn

from attr2img.data.synth import faces as synth_faces
from attr2img.inference.occluders import BIRD, FACE, occlude, occluder_masks
from attr2img.inference.posterior import InferenceConfig, infer
from attr2img.models import ModelConfig, build_model
from attr2img.models.config import Latent


class LinearGenerator(nn.Module):
    """mu(z, y) = W z with orthonormal columns: min ||W z - x||^2 + lam ||z||^2 has the closed
    form z* = W^T x / (1 + lam)."""

    def __init__(self, latent=6, size=8):
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(3 * size * size, latent, generator=torch.Generator().manual_seed(0)))
        self.W = nn.Parameter(q)
        self.latent_dim, self.size = latent, size

    def decode(self, z, y):
        return (z @ self.W.T).view(-1, 3, self.size, self.size)


def test_known_inverse_is_recovered():
    gen = LinearGenerator()
    z0 = torch.randn(5, 6)
    with torch.no_grad():
        x = gen.decode(z0, None)
    lam = 0.5
    res = infer(gen, x, torch.zeros(5, 0), InferenceConfig(iterations=400, lr=0.05, lam=lam))
    assert torch.allclose(res.z, z0 / (1 + lam), atol=1e-3)


@pytest.fixture(scope="module")
def decoder():
    torch.manual_seed(0)
    model = build_model(ModelConfig("discvae", 5, width=0.125, latent=Latent(z_fg=8, z_bg=4)))
    # calibrate batch norm's running statistics so that the untrained decoder responds to z
    model.train()
    with torch.no_grad():
        for _ in range(10):
            model.decode(torch.randn(64, model.latent_dim), torch.randn(64, 5))
    return model.eval()


def _batch(n=4, seed=0, model=None):
    """Random images, or (with ``model``) images the model can produce: x = mu(z0, y)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randn(n, 5, generator=g)
    if model is None:
        return torch.rand(n, 3, 64, 64, generator=g) * 2 - 1, y
    with torch.no_grad():
        return model.decode(2 * torch.randn(n, model.latent_dim, generator=g), y), y


def test_energy_decreases(decoder):
    x, y = _batch(model=decoder)
    res = infer(decoder, x, y, InferenceConfig(iterations=30, lr=0.1), record=True)
    h = res.history
    assert h.shape == (31, 4)
    assert (h[-1] < 0.9 * h[0]).all()
    assert ((h[1:] <= h[:-1] + 1e-3).float().mean() > 0.8), "mostly monotone"
    assert (res.evaluations == 30).all()


def test_inference_leaves_the_models_trainable_flags_as_they_were(decoder):
    params = list(decoder.parameters())
    before = [p.requires_grad for p in params]
    params[0].requires_grad_(False)                      # a frozen layer stays frozen
    x, y = _batch(2)
    try:
        infer(decoder, x, y, InferenceConfig(iterations=2))
        assert [p.requires_grad for p in params] == [False] + before[1:]
    finally:
        params[0].requires_grad_(before[0])


@pytest.mark.parametrize("channels_last", [False, True])
def test_folded_batch_norm_computes_the_same_decoder_and_leaves_the_model_alone(decoder, channels_last):
    from attr2img.ops import fold_batchnorm
    model = copy.deepcopy(decoder)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():                                 # batch norm's affine terms away from 1 and 0
        for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.weight.copy_(0.5 + torch.rand(bn.weight.shape, generator=g))
            bn.bias.copy_(torch.randn(bn.bias.shape, generator=g) * 0.2)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    folded = fold_batchnorm(model)
    assert n_bn > 0 and not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == n_bn, "the original keeps its layers"
    assert not any(p.requires_grad for p in folded.parameters())
    # out-of-place ReLUs: in place, each would act on a pixel-shuffle view and autograd would copy
    # the whole gradient back at every inference step
    assert not any(m.inplace for m in folded.modules() if isinstance(m, nn.ReLU))
    assert any(m.inplace for m in model.modules() if isinstance(m, nn.ReLU)), "training keeps them in place"
    z, y = torch.randn(6, model.latent_dim), torch.randn(6, 5)
    with torch.no_grad():
        a, b = model.decode(z, y), folded.decode(z, y)
        x = torch.rand(6, 3, 64, 64) * 2 - 1
        m = (torch.rand(6, 1, 64, 64) > 0.5).float()
        pa, pb = model.posterior_mean(x, y, m), folded.posterior_mean(x, y, m)
    assert torch.allclose(a, b, atol=1e-4)
    assert torch.allclose(pa, pb, atol=1e-4)
    assert a.std() > 0.01, "the decoder responds (the comparison is not between constants)"


def test_an_image_does_not_depend_on_its_batch(decoder):
    """Its neighbours' pixels and attributes do not reach an image's z (no batch statistics, no
    shared optimiser state); alone, it gets the same z up to the rounding of another batch size
    (compared after 3 iterations: later, Adam's normalised steps turn a rounding-level gradient
    near zero into a step of up to lr, and the comparison would test rounding, not independence)."""
    x, y = _batch(4)
    cfg = InferenceConfig(iterations=10, lr=0.1)
    together = infer(decoder, x, y, cfg)
    x_other, y_other = _batch(4, seed=1)
    for i in range(4):
        others = torch.arange(4) != i
        x2, y2 = x.clone(), y.clone()
        x2[others], y2[others] = x_other[others], y_other[others]
        assert torch.allclose(infer(decoder, x2, y2, cfg).z[i], together.z[i], atol=1e-6)
    short = InferenceConfig(iterations=3, lr=0.1)
    together = infer(decoder, x, y, short)
    for i in range(4):
        assert torch.allclose(infer(decoder, x[i:i + 1], y[i:i + 1], short).z, together.z[i:i + 1], atol=1e-5)


@pytest.mark.parametrize("init", ["prior_mean", "recognition"])
def test_occluded_pixels_do_not_change_the_completion(decoder, init):
    x, y = _batch(2)
    occ = occluder_masks("eyes", 2)
    x2 = torch.where(occ.bool().expand_as(x), -x + 0.3, x)          # other values behind the occluder
    cfg = InferenceConfig(iterations=8, lr=0.1, init=init)
    a = infer(decoder, x, y, cfg, observed=1 - occ)
    b = infer(decoder, x2, y, cfg, observed=1 - occ)
    assert torch.equal(a.z, b.z)
    c = infer(decoder, torch.where(occ.bool().expand_as(x), x, x + 0.2), y, cfg, observed=1 - occ)
    assert not torch.equal(a.z, c.z), "observed pixels do matter"


def test_early_stopping_saves_evaluations(decoder):
    x, y = _batch(3, model=decoder)
    full = infer(decoder, x, y, InferenceConfig(iterations=60, lr=0.1))
    early = infer(decoder, x, y, InferenceConfig(iterations=60, lr=0.1, rtol=1e-2, patience=3))
    assert (early.evaluations < full.evaluations).all()
    # early stopping truncates each image's own trajectory and changes nothing else (up to fp32
    # noise from the changing batch composition, which Adam's normalisation amplifies in flat directions)
    for i, k in enumerate(early.evaluations.tolist()):
        plain = infer(decoder, x[i:i + 1], y[i:i + 1], InferenceConfig(iterations=k, lr=0.1))
        assert torch.allclose(plain.z, early.z[i:i + 1], atol=5e-3)
        longer = infer(decoder, x[i:i + 1], y[i:i + 1], InferenceConfig(iterations=k + 15, lr=0.1))
        assert not torch.allclose(longer.z, early.z[i:i + 1], atol=5e-3)


def test_recognition_warm_start_begins_lower(decoder):
    x, y = _batch(3)
    a = infer(decoder, x, y, InferenceConfig(iterations=0, init="prior_mean"))
    b = infer(decoder, x, y, InferenceConfig(iterations=0, init="recognition"))
    assert not torch.equal(a.z, b.z) and (a.z == 0).all()


def test_occluder_masks():
    for name in FACE:
        m = occluder_masks(name, 3)
        assert m.shape == (3, 1, 64, 64) and 0 < m.mean() < 0.6 and torch.equal(m[0], m[2])
    assert occluder_masks("right_half", 1)[0, 0, :, 32:].eq(1).all()
    assert occluder_masks("right_half", 1)[0, 0, :, :32].eq(0).all()
    for name, k in zip(BIRD, (8, 16)):
        m = occluder_masks(name, 5, seed=3)
        assert (m.flatten(1).sum(1) == k * k).all()
        assert not torch.equal(m[0], m[1]), "a location per image"
        assert torch.equal(m, occluder_masks(name, 5, seed=3)), "fixed by the seed"
    x = torch.zeros(1, 3, 64, 64)
    assert occlude(x, occluder_masks("mouth", 1)).min() == -1
    with pytest.raises(ValueError, match="eyes"):
        occluder_masks("nose", 1)


def test_reconstruct_and_complete_commands_on_image_files(tiny_models, tiny_params_file, tmp_path, capsys):
    import numpy as np
    from skimage.io import imread, imsave

    from attr2img.cli import main
    from attr2img.data.fmt import load_split

    models, data = tiny_models["synth-faces"]
    test = load_split(data, "test")
    folder = tmp_path / "faces"
    folder.mkdir()
    for i in range(3):
        imsave(folder / f"img{i}.png", test.images[i], check_contrast=False)
    np.savetxt(tmp_path / "attrs.txt", test.attributes[:3])
    out = tmp_path / "filled"
    assert main(["complete", "--params", str(tiny_params_file), "--model", str(models / "cvae"), "--images",
                 str(folder), "--attributes", str(tmp_path / "attrs.txt"), "--occluder", "mouth",
                 "--out", str(out), "--device", "cpu"]) == 0
    occ = occluder_masks("mouth", 1)[0, 0].numpy().astype(bool)
    for i in range(3):
        filled = imread(out / f"img{i}.png")
        assert filled.shape == (64, 64, 3)
        assert np.array_equal(filled[~occ], test.images[i][~occ]), "observed pixels are kept"
    assert (out / "latents.npy").exists() and (out / "energies.json").exists()
    # the wrong number of attribute vectors is a clear error, and nothing is written
    np.savetxt(tmp_path / "two.txt", test.attributes[:2])
    assert main(["reconstruct", "--params", str(tiny_params_file), "--model", str(models / "cvae"), "--images",
                 str(folder), "--attributes", str(tmp_path / "two.txt"), "--out", str(tmp_path / "r")]) == 2
    assert f"expected (3, {len(synth_faces.ATTRIBUTES)})" in capsys.readouterr().err and not (tmp_path / "r").exists()
