"""The training step: eager on the CPU, a replayed CUDA graph on CUDA (those tests need a GPU)."""

import copy
import json

import pytest
import torch

from attr2img.device import autocast
from attr2img.models import ModelConfig, build_model
from attr2img.train.augment import AugmentConfig, augment
from attr2img.train.step import TrainStep, kl_scale, make_optimizer, restore, set_kl_scale, snapshot
from conftest import stop_after

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _setup(name="discvae", device="cpu", seed=0, n=8):
    device = torch.device(device)
    torch.manual_seed(seed)
    model = build_model(ModelConfig(name, 5, width=0.125)).to(device).to(memory_format=torch.channels_last)
    model.train()
    opt = make_optimizer(model.parameters(), 1e-3, 0.004, device)
    g = torch.Generator().manual_seed(seed + 1)
    x = (torch.rand(n, 3, 64, 64, generator=g) * 2 - 1).to(device)
    m = (torch.rand(n, 1, 64, 64, generator=g) > 0.5).float().to(device)
    y = torch.randn(n, 5, generator=g).to(device)
    return model, opt, x, m, y


def _params(model):
    return torch.cat([p.detach().float().flatten().cpu() for p in model.parameters()])


def test_eager_step_is_augment_loss_backward_adam():
    aug = AugmentConfig(rotate=0.08, zoom_crop=True)
    model, opt, x, m, y = _setup()
    model2, opt2 = copy.deepcopy(model), None
    opt2 = torch.optim.Adam(model2.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.004)
    step = TrainStep(model, opt, aug, torch.device("cpu"))
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    for _ in range(3):
        torch.manual_seed(7)
        step(x, m, y, g1)
        torch.manual_seed(7)
        xa, ma = augment(x, m, aug, g2)
        loss, _ = model2.loss(xa, ma, y)
        opt2.zero_grad(set_to_none=True)
        loss.backward()
        opt2.step()
    assert torch.equal(_params(model), _params(model2))
    assert not torch.equal(_params(model), _params(_setup()[0])), "the steps trained the model"


def test_kl_warmup_rises_linearly_then_stays_at_one():
    assert [kl_scale(0.0, s, 100) for s in (0, 50, 99)] == [1.0, 1.0, 1.0]          # off: the full weight
    assert [kl_scale(0.2, s, 100) for s in (0, 5, 10, 19, 20, 99)] == [0.0, 0.25, 0.5, 0.95, 1.0, 1.0]


@pytest.mark.parametrize("name, kl_keys", [("cvae", ("kl",)), ("vae", ("kl",)), ("discvae", ("kl_fg", "kl_bg"))])
def test_kl_scale_weighs_the_generators_kl_terms_only(name, kl_keys):
    model, _, x, m, y = _setup(name)
    model.eval()                                   # no dropout; the reparameterisation noise is seeded below
    losses = {}
    for scale in (1.0, 0.25, 0.0):
        set_kl_scale(model, scale)
        torch.manual_seed(3)
        with torch.no_grad():
            total, parts = model.loss(x, m, y)
        losses[scale] = (float(total), parts)
    total, parts = losses[1.0]
    kl = sum(float(parts[k]) for k in kl_keys)
    rest = total - kl                              # the reconstruction (and gate) terms, the same at every scale
    for scale in (0.25, 0.0):
        assert losses[scale][0] == pytest.approx(rest + scale * kl, rel=1e-5)
    assert kl > 1e-3, "the check above would pass without a KL term"
    assert "kl_scale" not in model.state_dict(), "the warm-up's factor is not saved with the weights"
    regressor = build_model(ModelConfig("regressor", 5, width=0.125))
    set_kl_scale(regressor, 0.5)                   # a model without KL terms is left alone
    assert not hasattr(regressor, "kl_scale")


@pytest.mark.parametrize("steps_before", [0, 2])
def test_restore_undoes_training_in_place(steps_before):
    model, opt, x, m, y = _setup("regressor")
    step = TrainStep(model, opt, AugmentConfig(), torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    for _ in range(steps_before):
        step(x, m, y, gen)
    ids = [id(t) for t in [*model.parameters(), *model.buffers()]]
    before = copy.deepcopy((model.state_dict(), opt.state_dict()))
    saved = snapshot(model, opt)
    trained = _params(model)
    for _ in range(3):
        step(x, m, y, gen)
    assert not torch.equal(_params(model), trained), "the steps changed the model"
    restore(model, opt, saved)
    assert [id(t) for t in [*model.parameters(), *model.buffers()]] == ids, "restored in place"
    for k, v in before[0].items():
        assert torch.equal(model.state_dict()[k], v), k
    state = opt.state_dict()["state"]
    if steps_before == 0:             # Adam's fresh state: zero moments at step 0
        assert state and all(float(t.abs().sum()) == 0 for s in state.values() for t in s.values())
    else:
        for i, s in before[1]["state"].items():
            for k, v in s.items():
                assert torch.equal(state[i][k], v), (i, k)


def test_cpu_autocast_is_fp32_or_bf16_as_asked():
    conv = torch.nn.Conv2d(3, 4, 3)
    x = torch.randn(1, 3, 8, 8)
    cpu = torch.device("cpu")
    with autocast(cpu):
        assert conv(x).dtype == torch.float32
    with autocast(cpu, "bf16"):
        assert conv(x).dtype == torch.bfloat16
    with pytest.raises(ValueError, match="fp16"):
        autocast(cpu, "fp16")


def test_cpu_optimizer_is_the_plain_adam():
    model, opt, *_ = _setup("regressor")
    assert not opt.defaults["fused"] and not opt.defaults["capturable"]


@cuda
def test_graphed_step_matches_eager_on_cuda():
    aug = AugmentConfig(rotate=0.08, zoom_crop=True)
    results = []
    for graph in (False, True):
        model, opt, x, m, y = _setup("regressor", "cuda")
        step = TrainStep(model, opt, aug, torch.device("cuda"), cuda_graph=graph)
        gen = torch.Generator().manual_seed(0)
        losses = [float(step(x, m, y, gen)[0].detach()) for _ in range(6)]
        results.append((losses, _params(model)))
    (l0, p0), (l1, p1) = results
    assert l0[0] == pytest.approx(l1[0], rel=1e-3), "the warm-up did not train the model"
    assert l0 == pytest.approx(l1, rel=2e-2)
    assert float((p0 - p1).norm() / (p0 - _params(_setup("regressor", "cuda")[0])).norm()) < 0.05


@cuda
def test_graphed_discvae_learns_and_other_shapes_run_eagerly():
    model, opt, x, m, y = _setup("discvae", "cuda", n=16)
    step = TrainStep(model, opt, AugmentConfig(), torch.device("cuda"), cuda_graph=True)
    gen = torch.Generator().manual_seed(0)
    losses = [float(step(x, m, y, gen)[0].detach()) for _ in range(40)]
    assert step.graph is not None
    assert sum(losses[-5:]) < 0.9 * sum(losses[:5])
    loss, _ = step(x[:5], m[:5], y[:5], gen)          # a short batch: eager, same model
    assert torch.isfinite(loss)


@cuda
def test_train_stage_on_cuda_resumes_with_graphed_steps(tmp_path, tiny_datasets, tiny_params):
    from safetensors.torch import load_file

    from attr2img.train.loop import train

    p = copy.deepcopy(tiny_params)
    p["train"].update(device="cuda", cuda_graph=True, epochs={d: {k: 3 for k in e} for d, e in p["train"]["epochs"].items()})
    data = tiny_datasets["synth-faces"][1]
    args = ("discvae", data, tmp_path / "model", p, "synth-faces", tmp_path / "log.tsv", tmp_path / "ckpt")
    with pytest.raises(KeyboardInterrupt):
        train(*args, callbacks=[stop_after(1)])
    card = train(*args, run_record=tmp_path / "run.json")
    assert json.loads((tmp_path / "run.json").read_text())["device"].startswith("cuda") and card["epochs"] == 3
    assert card["steps"] == 3 * (p["data"]["synth-faces"]["n_train"] // p["train"]["batch_size"])
    rows = (tmp_path / "log.tsv").read_text().splitlines()
    assert len(rows) == 4 and all("nan" not in r for r in rows)
    w = load_file(str(tmp_path / "model" / "model.safetensors"))
    assert all(torch.isfinite(t).all() for t in w.values())


def test_each_rank_augments_its_slice_of_the_global_batch_draws(monkeypatch):
    from attr2img.train import augment as aug_mod

    seen = []
    real_apply = aug_mod.apply
    monkeypatch.setattr(aug_mod, "apply", lambda x, m, cfg, r: (seen.append(r.clone()), real_apply(x, m, cfg, r))[1])
    model, opt, x, m, y = _setup("regressor", n=4)
    for rank in (0, 1):
        TrainStep(model, opt, AugmentConfig(), torch.device("cpu"), shard=(rank, 2))(x, m, y, torch.Generator().manual_seed(3))
    whole = aug_mod.draws(8, torch.Generator().manual_seed(3))
    assert torch.equal(torch.cat(seen), whole), "rank r gets rows 4r..4r+3 of the 8-image batch's draws"
