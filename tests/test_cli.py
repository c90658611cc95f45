import subprocess
import sys

import pytest

from attr2img.cli import STAGES, main


def test_module_entry_point_lists_every_stage():
    out = subprocess.run([sys.executable, "-m", "attr2img", "--help"], capture_output=True, text=True, check=True).stdout
    for stage in STAGES:
        assert stage in out


def test_prepare_then_overview(tmp_path, tiny_params_file, capsys):
    data = tmp_path / "data" / "synth-birds"
    fig = tmp_path / "fig.png"
    assert main(["prepare", "--params", str(tiny_params_file), "--dataset", "synth-birds", "--out", str(data)]) == 0
    assert (data / "card.json").exists()
    assert main(["overview", "--params", str(tiny_params_file), "--data", str(data), "--out", str(fig)]) == 0
    first = fig.read_bytes()
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["overview", "--params", str(tiny_params_file), "--data", str(data), "--out", str(fig)]) == 0
    assert fig.read_bytes() == first, "reruns give identical bytes"


def test_overview_without_data_names_the_producing_stage(tmp_path, tiny_params_file, capsys):
    code = main(["overview", "--params", str(tiny_params_file), "--data", str(tmp_path / "missing"),
                 "--out", str(tmp_path / "f.png")])
    assert code == 3, "a missing input is a data error"
    assert "attr2img prepare" in capsys.readouterr().err
    assert not (tmp_path / "f.png").exists()


def test_check_params(tiny_params_file, capsys):
    assert main(["check-params", "--params", str(tiny_params_file)]) == 0
    assert "valid" in capsys.readouterr().out


# -- every user mistake: one clear line, no traceback, usage (2) and data (3) errors told apart --
@pytest.fixture
def recon_inputs(tiny_models, tmp_path):
    import numpy as np
    from PIL import Image

    from attr2img.data.fmt import load_split

    models, data = tiny_models["synth-faces"]
    test = load_split(data, "test")
    folder = tmp_path / "faces"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(test.images[i]).save(folder / f"img{i}.png")
    np.savetxt(tmp_path / "attrs.txt", test.attributes[:2])
    return models, folder, tmp_path / "attrs.txt"


def _recon(params_file, model, images, attrs, out, *extra, stage="reconstruct"):
    return main([stage, "--params", str(params_file), "--model", str(model), "--images", str(images),
                 "--attributes", str(attrs), "--out", str(out), "--device", "cpu", *extra])


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) >= 1
    return err


def test_an_unknown_occluder_is_a_usage_error(recon_inputs, tiny_params_file, tmp_path, capsys):
    models, folder, attrs = recon_inputs
    with pytest.raises(SystemExit) as exit_:
        _recon(tiny_params_file, models / "cvae", folder, attrs, tmp_path / "o", "--occluder", "nose", stage="complete")
    assert exit_.value.code == 2 and "invalid choice: 'nose'" in capsys.readouterr().err
    from attr2img.errors import UsageError
    from attr2img.inference.occluders import occluder_masks

    with pytest.raises(UsageError, match="unknown occluder 'nose'; choose one of eyes"):
        occluder_masks("nose", 1)


def test_a_regressor_given_to_reconstruct_is_named(recon_inputs, tiny_params_file, tmp_path, capsys):
    models, folder, attrs = recon_inputs
    assert _recon(tiny_params_file, models / "regressor", folder, attrs, tmp_path / "o") == 2
    assert "holds the regressor, not a generator" in _one_line(capsys) and not (tmp_path / "o").exists()


def test_a_non_image_file_is_a_data_error(recon_inputs, tiny_params_file, tmp_path, capsys):
    models, folder, attrs = recon_inputs
    (folder / "notes.png").write_text("these are not pixels")
    assert _recon(tiny_params_file, models / "cvae", folder / "notes.png", attrs, tmp_path / "o") == 3
    err = _one_line(capsys)
    assert "notes.png: not an image file" in err and "imageio" not in err and "pip install" not in err


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_usage_error(recon_inputs, tiny_params_file, tmp_path, capsys):
    models, folder, attrs = recon_inputs
    assert _recon(tiny_params_file, models / "cvae", folder, attrs, tmp_path / "o", "--device", "cuda") == 2
    assert "no CUDA device; use --device cpu" in _one_line(capsys)


@pytest.mark.parametrize("damage", ["card", "weights"])
def test_a_corrupt_model_folder_is_a_data_error(recon_inputs, tiny_params_file, tmp_path, capsys, damage):
    import shutil

    models, folder, attrs = recon_inputs
    broken = tmp_path / "broken"
    shutil.copytree(models / "cvae", broken)
    if damage == "card":
        (broken / "card.json").write_text('{"model": "cvae", "config": {')
    else:
        data = (broken / "model.safetensors").read_bytes()
        (broken / "model.safetensors").write_bytes(data[: len(data) // 2])
    assert _recon(tiny_params_file, broken, folder, attrs, tmp_path / "o") == 3
    err = _one_line(capsys)
    assert ("card.json is corrupt" if damage == "card" else "model.safetensors") in err and "retrain" in err


def test_a_device_is_taken_as_named_or_refused():
    import torch

    from attr2img.device import resolve_device
    from attr2img.errors import UsageError

    assert resolve_device("cpu") == resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(UsageError, match="unknown device 'gpu'"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="'cuda:1' was requested but this machine has no CUDA device"):
            resolve_device("cuda:1")                  # never silently the CPU
