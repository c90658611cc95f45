"""Generating from attributes: the Python API and `attr2img sample`."""

import numpy as np
import pytest
import torch

from attr2img.cli import main
from attr2img.data.synth import faces as synth_faces
from attr2img.errors import AttributeInputError, ModelError
from attr2img.generate import AttributeGenerator

A = len(synth_faces.ATTRIBUTES)


@pytest.fixture(scope="module")
def trained(tiny_models):
    return tiny_models["synth-faces"]


def test_generate_shapes_and_seeds(trained):
    root, _ = trained
    g = AttributeGenerator(root / "discvae")
    y = g.attribute_vector({"Smiling": 2.0, "Male": -1.0})
    assert y[g.attribute_names.index("Smiling")] == 2.0 and y[g.attribute_names.index("Male")] == -1.0
    a, b, c = g.generate(y, n=3, seed=0), g.generate(y, n=3, seed=0), g.generate(y, n=3, seed=1)
    assert a.shape == (3, 3, 64, 64) and torch.equal(a, b) and not torch.equal(a, c)
    batch = g.generate(np.stack([y, y]), n=2, seed=0)
    assert batch.shape == (4, 3, 64, 64)


def test_api_and_cli_start_from_the_same_training_mean(trained):
    from attr2img.data.fmt import load_split
    from attr2img.generate import base_vector

    root, data = trained
    g = AttributeGenerator(root / "cvae", device="auto")
    mean = load_split(data, "train").attributes.mean(0)
    y = g.attribute_vector({"Smiling": 2.0})
    youth = g.attribute_names.index("Youth")
    assert y[youth] == pytest.approx(mean[youth], abs=1e-6) and mean[youth] != 0
    cli_base, label = base_vector(g, data, "mean")
    assert label == "training mean" and np.array_equal(g.attribute_vector({}), cli_base)


def test_unknown_attribute_lists_valid_names(trained):
    g = AttributeGenerator(trained[0] / "cvae")
    with pytest.raises(AttributeInputError, match=r"'Smilling'.*valid attribute names: Male, Youth"):
        g.attribute_vector({"Smilling": 1.0})


def test_wrong_vector_length_lists_valid_names(trained):
    g = AttributeGenerator(trained[0] / "cvae")
    with pytest.raises(AttributeInputError, match=rf"shape \({A - 1},\).*expected \({A},\).*Pale Skin"):
        g.generate(np.zeros(A - 1, np.float32))
    with pytest.raises(AttributeInputError, match="NaN"):
        g.generate(np.full(A, np.nan, np.float32))


def test_regressor_is_not_a_generator(trained):
    with pytest.raises(ModelError, match="not a generator"):
        AttributeGenerator(trained[0] / "regressor")


def test_sample_cli_writes_a_grid(trained, tmp_path):
    root, data = trained
    out = tmp_path / "grid.png"
    assert main(["sample", "--model", str(root / "cvae"), "--data", str(data), "--set", "Smiling=2",
                 "--set", "Male=-1", "-n", "4", "--seed", "3", "--base", "test:1", "--out", str(out)]) == 0
    first = out.read_bytes()
    assert first[:4] == b"\x89PNG"
    main(["sample", "--model", str(root / "cvae"), "--data", str(data), "--set", "Smiling=2",
          "--set", "Male=-1", "-n", "4", "--seed", "3", "--base", "test:1", "--out", str(out)])
    assert out.read_bytes() == first


def test_sample_cli_vector_file(trained, tmp_path):
    root, data = trained
    vec = tmp_path / "y.txt"
    vec.write_text(" ".join(["0.5"] * A))
    assert main(["sample", "--model", str(root / "cvae"), "--data", str(data), "--vector", str(vec),
                 "-n", "2", "--out", str(tmp_path / "g.png")]) == 0


@pytest.mark.parametrize("args, message", [
    (["--set", "Smilling=2"], "valid attribute names"),
    (["--set", "Smiling"], "NAME=NUMBER"),
    (["--base", "test:999"], "test:K"),
])
def test_sample_cli_bad_input_is_a_clear_error(trained, tmp_path, capsys, args, message):
    root, data = trained
    out = tmp_path / "g.png"
    assert main(["sample", "--model", str(root / "cvae"), "--data", str(data), "--out", str(out), *args]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_sample_cli_missing_model_names_the_stage(tmp_path, trained, capsys):
    _, data = trained
    assert main(["sample", "--model", str(tmp_path / "nope"), "--data", str(data), "--out", str(tmp_path / "g.png")]) == 3
    assert "attr2img train" in capsys.readouterr().err
