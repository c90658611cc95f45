"""The train stage: outputs, DVC plots, checkpoints and bit-identical resume on the CPU."""

import copy

import pytest
import torch
from safetensors.torch import load_file

from attr2img.cli import main
from attr2img.errors import ModelError
from attr2img.models.store import load_model
from attr2img.train.augment import AugmentConfig, augment
from attr2img.train.loop import train
from conftest import stop_after


def _params(tiny_params, epochs=3):
    p = copy.deepcopy(tiny_params)
    p["train"]["epochs"] = {d: {k: epochs for k in m} for d, m in p["train"]["epochs"].items()}
    p["train"]["device"] = "cpu"
    return p


def _train(tiny_datasets, params, tmp, model="discvae", dataset="synth-faces", **kw):
    _, root = tiny_datasets[dataset]
    return train(model, root, tmp / "model", params, dataset, tmp / "log.tsv", tmp / "ckpt", **kw)


def test_outputs_card_and_plots_file(tmp_path, tiny_datasets, tiny_params):
    params = _params(tiny_params, epochs=2)
    card = _train(tiny_datasets, params, tmp_path, model="cvae")
    model, saved = load_model(tmp_path / "model")
    assert saved["dataset_checksum"] == tiny_datasets["synth-faces"][0]["checksum"]
    assert saved["config"]["model"] == "cvae" and saved["config"]["width"] == 0.125
    assert card["steps"] == 2 * (24 // 8) and card == saved
    rows = (tmp_path / "log.tsv").read_text().splitlines()
    header = rows[0].split("\t")
    assert header[:2] == ["epoch", "step"] and "train_loss" in header and "val_loss" in header
    assert len(rows) == 1 + 2
    assert not (tmp_path / "ckpt" / "last.pt").exists(), "the checkpoint is removed once training ends"


@pytest.mark.parametrize("model", ["discvae", "regressor"])
def test_killed_and_resumed_run_is_bit_identical(tmp_path, tiny_datasets, tiny_params, model):
    params = _params(tiny_params, epochs=3)
    dataset = "synth-birds" if model == "regressor" else "synth-faces"
    _train(tiny_datasets, params, tmp_path / "full", model=model, dataset=dataset)
    with pytest.raises(KeyboardInterrupt):
        _train(tiny_datasets, params, tmp_path / "cut", model=model, dataset=dataset, callbacks=[stop_after(2)])
    assert (tmp_path / "cut" / "ckpt" / "last.pt").exists() and not (tmp_path / "cut" / "model").exists()
    _train(tiny_datasets, params, tmp_path / "cut", model=model, dataset=dataset)
    a = load_file(str(tmp_path / "full" / "model" / "model.safetensors"))
    b = load_file(str(tmp_path / "cut" / "model" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "full" / "log.tsv").read_text() == (tmp_path / "cut" / "log.tsv").read_text()


def test_kl_warmup_trains_otherwise_and_validates_on_the_full_elbo(tmp_path, tiny_datasets, tiny_params):
    params = _params(tiny_params, epochs=2)
    plain = _train(tiny_datasets, params, tmp_path / "plain", model="cvae")
    params["train"]["kl_warmup"] = 1.0             # the KL weight rises over the whole run
    warm = _train(tiny_datasets, params, tmp_path / "warm", model="cvae")
    assert warm["train_params"]["kl_warmup"] == 1.0 and plain["train_params"]["kl_warmup"] == 0.0
    assert warm["final"]["train_loss"] != plain["final"]["train_loss"]
    for card in (plain, warm):                     # validation is the ELBO at the full KL weight (1 here)
        f = card["final"]
        assert f["val_loss"] == pytest.approx(f["val_recon"] + f["val_kl"], rel=1e-6)
    # the judge has no KL term and no warm-up, whatever the generators' setting
    judge = _train(tiny_datasets, params, tmp_path / "judge", model="regressor", dataset="synth-birds")
    assert judge["train_params"]["kl_warmup"] == 0.0


def test_cpu_precision_is_the_generators_own_and_the_judges_own(tmp_path, tiny_datasets, tiny_params):
    params = _params(tiny_params, epochs=1)
    runs = {}
    for precision in ("fp32", "bf16"):
        params["train"]["cpu_precision"] = precision
        runs[precision] = _train(tiny_datasets, params, tmp_path / precision, model="cvae")
        assert runs[precision]["train_params"]["cpu_precision"] == precision
    fp32, bf16 = (runs[k]["final"] for k in ("fp32", "bf16"))
    assert bf16["train_loss"] != fp32["train_loss"], "bf16 autocast changed nothing: it did not run"
    assert bf16["val_loss"] == pytest.approx(fp32["val_loss"], rel=0.05), "bf16 is the same recipe in other arithmetic"
    # the judge follows its own key (regressor.cpu_precision), not the generators' (bf16 here)
    params["regressor"]["cpu_precision"] = "fp32"
    judge = _train(tiny_datasets, params, tmp_path / "judge", model="regressor", dataset="synth-birds")
    assert judge["train_params"]["cpu_precision"] == "fp32"
    params["train"]["cpu_precision"], params["regressor"]["cpu_precision"] = "fp32", "bf16"
    judge = _train(tiny_datasets, params, tmp_path / "judge-bf16", model="regressor", dataset="synth-birds")
    assert judge["train_params"]["cpu_precision"] == "bf16"


def test_checkpoint_of_other_parameters_is_not_resumed(tmp_path, tiny_datasets, tiny_params, capsys):
    params = _params(tiny_params, epochs=2)
    with pytest.raises(KeyboardInterrupt):
        _train(tiny_datasets, params, tmp_path / "a", model="vae", callbacks=[stop_after(1)])
    other = copy.deepcopy(params)
    other["train"]["lr"] = params["train"]["lr"] * 2     # another learning rate than the default
    _train(tiny_datasets, other, tmp_path / "a", model="vae")
    assert "ignoring" in capsys.readouterr().out
    _train(tiny_datasets, other, tmp_path / "fresh", model="vae")   # the same run from scratch
    a = load_file(str(tmp_path / "a" / "model" / "model.safetensors"))
    b = load_file(str(tmp_path / "fresh" / "model" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_checkpoint_of_other_code_is_not_resumed(tmp_path, tiny_datasets, tiny_params, capsys, monkeypatch):
    """Fix a bug, rerun: the run starts afresh rather than mix two code versions."""
    import attr2img.train.loop as loop

    params = _params(tiny_params, epochs=2)
    with pytest.raises(KeyboardInterrupt):
        _train(tiny_datasets, params, tmp_path, model="vae", callbacks=[stop_after(1)])
    monkeypatch.setattr(loop, "code_hash", lambda module: "the sources after a fix")
    epochs_seen = []
    _train(tiny_datasets, params, tmp_path, model="vae", callbacks=[lambda done, row: epochs_seen.append(done)])
    assert "ignoring" in capsys.readouterr().out and epochs_seen == [1, 2]


def test_code_hash_follows_the_stage_sources(tmp_path):
    from attr2img.sources import code_hash

    pkg = tmp_path / "attr2img"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "stage.py").write_text("from attr2img import helper\n")
    (pkg / "helper.py").write_text("X = 1\n")
    (pkg / "other.py").write_text("Y = 1\n")
    before = code_hash("attr2img.stage", tmp_path)
    (pkg / "other.py").write_text("Y = 2\n")
    assert code_hash("attr2img.stage", tmp_path) == before, "a file the stage does not run"
    (pkg / "helper.py").write_text("X = 2\n")
    assert code_hash("attr2img.stage", tmp_path) != before


class _Evil:
    def __reduce__(self):
        return (open, ("/tmp/attr2img-pwned", "w"))


def test_a_checkpoint_with_pickled_objects_is_never_executed(tmp_path, tiny_datasets, tiny_params):
    target = tmp_path / "ckpt" / "last.pt"
    target.parent.mkdir(parents=True)
    torch.save({"fingerprint": _Evil()}, target)
    import os
    if os.path.exists("/tmp/attr2img-pwned"):
        os.remove("/tmp/attr2img-pwned")
    with pytest.raises(ModelError, match="refusing"):
        _train(tiny_datasets, _params(tiny_params, epochs=1), tmp_path, model="vae")
    assert not os.path.exists("/tmp/attr2img-pwned")


def test_cli_train_with_missing_data_names_the_stage(tmp_path, tiny_params_file, capsys):
    code = main(["train", "--params", str(tiny_params_file), "--dataset", "synth-faces", "--model", "cvae",
                 "--data", str(tmp_path / "none"), "--out", str(tmp_path / "m"), "--log", str(tmp_path / "l.tsv"),
                 "--checkpoints", str(tmp_path / "c"), "--device", "cpu"])
    assert code == 3 and "attr2img prepare" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_a_batch_larger_than_the_training_split_is_a_usage_error(tmp_path, tiny_datasets, tiny_params):
    from attr2img.errors import UsageError
    params = _params(tiny_params)
    params["regressor"]["batch_size"] = 64                  # the tiny split has 24 training images
    with pytest.raises(UsageError, match=r"batch size 64 \(regressor.batch_size\) is larger than the 24"):
        _train(tiny_datasets, params, tmp_path, model="regressor", dataset="synth-birds")
    assert not (tmp_path / "model").exists() and not (tmp_path / "log.tsv").exists()
    card = _train(tiny_datasets, _params(tiny_params, epochs=1), tmp_path, model="regressor", dataset="synth-birds")
    assert card["config"]["networks"] and card["steps"] == 24 // 8    # the judge's own batch, its networks


def _mask_image(n=6):
    m = torch.zeros(n, 1, 64, 64)
    m[:, :, 10:40, 5:30] = 1
    m[:, :, 40:60, 30:62] = 1
    return m, (m * 2 - 1).expand(n, 3, 64, 64).contiguous()


@pytest.mark.parametrize("cfg", [AugmentConfig(gain=0, sharpen=0),
                                 AugmentConfig(gain=0, sharpen=0, rotate=0.08, zoom_crop=True),
                                 AugmentConfig(gain=0, sharpen=0, shift=4)])
def test_masks_move_with_their_images(cfg):
    m, x = _mask_image()
    xa, ma = augment(x, m, cfg, torch.Generator().manual_seed(1))
    agree = (((xa[:, :1] + 1) / 2 >= 0.5).float() == ma).float().mean()
    assert agree > 0.99
    assert not torch.equal(ma, m), "the augmentation did something"


def test_photometric_augmentation_keeps_range_and_mask():
    m, _ = _mask_image()
    x = torch.rand(6, 3, 64, 64) * 2 - 1
    xa, ma = augment(x, m, AugmentConfig(flip=False), torch.Generator().manual_seed(0))
    assert torch.equal(ma, m) and xa.min() >= -1 and xa.max() <= 1 and not torch.equal(xa, x)


@pytest.mark.parametrize("r2, r3, dx, dy", [(1.0, 0.5, 4, 0), (0.0, 0.5, -4, 0), (0.5, 1.0, 0, 4)])
def test_shift_translates_by_at_most_its_pixels(r2, r3, dx, dy):
    from attr2img.train.augment import N_DRAWS, apply
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    m = (torch.rand(1, 1, 64, 64) > 0.5).float()
    r = torch.full((1, N_DRAWS), 0.5)
    r[0, 0], r[0, 2], r[0, 3] = 1.0, r2, r3                  # no flip; the extreme (or no) shift each way
    xa, ma = apply(x, m, AugmentConfig(gain=0, sharpen=0, shift=4), r)
    # the output at (i, j) is the input at (i + dy, j + dx), away from the border
    inner = (slice(None), slice(None), slice(8, 56), slice(8, 56))
    shifted = torch.roll(x, shifts=(-dy, -dx), dims=(2, 3))
    assert torch.allclose(xa[inner], shifted[inner], atol=1e-5)
    assert torch.equal(ma[inner], torch.roll(m, shifts=(-dy, -dx), dims=(2, 3))[inner])


def test_same_generator_seed_same_augmentation():
    m, x = _mask_image()
    cfg = AugmentConfig(rotate=0.08, zoom_crop=True)
    a = augment(x, m, cfg, torch.Generator().manual_seed(3))
    b = augment(x, m, cfg, torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_box_filter_matches_average_pooling_without_padding():
    from torch.nn import functional as F

    from attr2img.ops import box_filter

    x = torch.rand(2, 3, 16, 16)
    assert torch.allclose(box_filter(x, 5), F.avg_pool2d(x, 5, stride=1, padding=2, count_include_pad=False), atol=1e-6)


def test_batchnorm_recalibration_gives_each_layer_the_exact_statistics_of_the_split(tiny_datasets):
    """After recalibrate_batchnorm, a batch norm's running mean and variance are its input's
    mean and (unbiased per-batch, averaged) variance over the split's batches under the final
    weights; the weights and the momentum are untouched; evaluation mode is left on."""
    from attr2img.data.loader import ProcessedDataset
    from attr2img.models import ModelConfig, build_model
    from attr2img.train.loop import recalibrate_batchnorm
    _, root = tiny_datasets["synth-faces"]
    data = ProcessedDataset(root, "train")
    torch.manual_seed(0)
    model = build_model(ModelConfig("regressor", len(data.attribute_names), width=0.125))
    bn = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    with torch.no_grad():
        bn.running_mean.fill_(5.0)                                  # stale statistics
    weights = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k and "num_batches" not in k}
    seen = []
    hook = bn.register_forward_pre_hook(lambda mod, inp: seen.append(inp[0].detach().clone()))
    assert recalibrate_batchnorm(model, data, 8, torch.device("cpu"), seed=0) == 3     # the encoder's three
    hook.remove()
    assert not model.training and bn.momentum == 0.1
    means = torch.stack([s.mean((0, 2, 3)) for s in seen])
    variances = torch.stack([s.var((0, 2, 3), unbiased=True) for s in seen])
    assert torch.allclose(bn.running_mean, means.mean(0), atol=1e-5)
    assert torch.allclose(bn.running_var, variances.mean(0), rtol=1e-4)
    for k, v in weights.items():
        assert torch.equal(model.state_dict()[k], v), k


def test_the_card_reports_validation_after_recalibration(tmp_path, tiny_datasets, tiny_params):
    params = _params(tiny_params, epochs=1)
    card = _train(tiny_datasets, params, tmp_path, model="discvae")
    rows = (tmp_path / "log.tsv").read_text().splitlines()
    logged = dict(zip(rows[0].split("\t"), rows[-1].split("\t")))
    assert card["final"]["batchnorm"] == "recalibrated on the training images"
    assert card["final"]["train_loss"] == pytest.approx(float(logged["train_loss"]), rel=1e-5)
    assert card["final"]["val_loss"] != pytest.approx(float(logged["val_loss"]), rel=1e-6), \
        "the card's validation loss is the recalibrated model's, not the epoch's"
