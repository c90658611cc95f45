"""Figures 4 and 5 measured (stage evaluate-edits), on stand-in models whose answers are known."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from attr2img.data.loader import ProcessedDataset
from attr2img.edits import PROGRESSIONS, progressions_for
from attr2img.inference.evaluate_edits import EditsConfig, layer_measures, progression_measures, row_key

CFG = EditsConfig(n_draws=6, steps=5, n_vary=4, seed=0)


class Writer:
    """A 'generator' that paints attribute j into pixel row j (scaled to [-1, 1]) and z elsewhere,
    optionally leaking a fraction of every moved attribute into all the others."""

    def __init__(self, n_attributes: int, leak: float = 0.0):
        self.latent_dim, self.a, self.leak = 3, n_attributes, leak

    def decode(self, z, y):
        x = torch.zeros(len(y), 3, 64, 64)
        v = y + self.leak * (y - y[:1]).sum(1, keepdim=True)   # leaks the change from the first step
        x[:, :, :self.a, :] = (v / 10)[:, None, :, None]
        x[:, :, 40:43, :] = z[:, :, None, None].transpose(1, 2).expand(-1, 3, 3, 64) / 10
        return x


class Reader:
    """A perfect 'regressor' for Writer's images."""

    def __init__(self, n_attributes: int):
        self.a = n_attributes

    def predict(self, x):
        return x[:, 0, :self.a, :].mean(-1) * 10


class LabelReader(Reader):
    """Reader, which on the real test images returns ``sign`` times their labels, and the
    opposite of the labels in the ``flipped`` columns."""

    def __init__(self, test: ProcessedDataset, sign: float = 1.0, flipped: tuple[int, ...] = ()):
        super().__init__(len(test.attribute_names))
        self.real, self.labels = test.tensors(torch.device("cpu"))[0], test.attributes
        self.sign = torch.full((self.a,), sign)
        self.sign[list(flipped)] *= -1

    def predict(self, x):
        same = x.shape == self.real.shape and torch.equal(x, self.real)
        return self.sign * self.labels if same else super().predict(x)


def test_a_selective_generator_moves_only_the_named_attribute(tiny_datasets):
    train, test = (ProcessedDataset(tiny_datasets["synth-faces"][1], s) for s in ("train", "test"))
    a = len(train.attribute_names)
    rows = progression_measures(Writer(a), Reader(a), train, test, CFG, torch.device("cpu"))
    assert set(rows) == {row_key(label) for label, _ in progressions_for(train.attribute_names)}
    g = rows["gender_female_to_male"]
    std = train.attributes.std(0)[train.attribute_names.index("Male")]
    assert g["spearman"] == pytest.approx(1.0)
    assert np.allclose(g["off"], 0, atol=1e-5)
    lo, hi = train.attributes.min(0).values, train.attributes.max(0).values
    j = train.attribute_names.index("Male")
    assert np.allclose(g["on"], float((hi[j] - lo[j]) / std), rtol=1e-4)
    assert len(g["on"]) == CFG.n_draws


def test_a_leaky_generator_moves_the_others_too(tiny_datasets):
    train, test = (ProcessedDataset(tiny_datasets["synth-faces"][1], s) for s in ("train", "test"))
    a = len(train.attribute_names)
    clean = progression_measures(Writer(a), Reader(a), train, test, CFG, torch.device("cpu"))
    leaky = progression_measures(Writer(a, leak=1.0), Reader(a), train, test, CFG, torch.device("cpu"))
    assert (leaky["gender_female_to_male"]["off"] > clean["gender_female_to_male"]["off"] + 0.1).all()


@pytest.mark.parametrize("dataset", ["synth-faces", "synth-birds"])
def test_each_row_says_how_well_the_judge_reads_its_attributes_on_real_images(tiny_datasets, dataset):
    train, test = (ProcessedDataset(tiny_datasets[dataset][1], s) for s in ("train", "test"))
    a = len(train.attribute_names)
    right = progression_measures(Writer(a), LabelReader(test), train, test, CFG, torch.device("cpu"))
    wrong = progression_measures(Writer(a), LabelReader(test, -1.0), train, test, CFG, torch.device("cpu"))
    for key in right:                          # r = 1 / AUC = 1 for the labels, -1 / 0 for their negation
        assert right[key]["judge_on_real"] == pytest.approx(1.0)
        assert wrong[key]["judge_on_real"] == pytest.approx(0.0 if dataset == "synth-birds" else -1.0)
    if dataset == "synth-faces":               # only the row's own (moved) attributes count
        blind = progression_measures(Writer(a), LabelReader(test, flipped=(train.attribute_names.index("Male"),)),
                                     train, test, CFG, torch.device("cpu"))
        assert blind["gender_female_to_male"]["judge_on_real"] == pytest.approx(-1.0)
        assert blind["eyewear_none_to_eyeglasses"]["judge_on_real"] == pytest.approx(1.0)


def test_the_birds_get_their_own_progressions(tiny_datasets):
    names = ProcessedDataset(tiny_datasets["synth-birds"][1], "train").attribute_names
    assert [label for label, _ in progressions_for(names)] == [l for l, s in PROGRESSIONS if "::" in next(iter(s))]
    with pytest.raises(ValueError, match="no attribute progression"):
        progressions_for(["unknown"])


class Layers:
    """A stand-in disCVAE: z_B paints only where the gate is 1 (the left half, background),
    z_F only where it is 0."""

    def __init__(self):
        self.cfg = SimpleNamespace(latent=SimpleNamespace(z_fg=2, z_bg=2))

    def decode_layers(self, zf, zb, y):
        n = len(zf)
        gate = torch.zeros(n, 1, 64, 64)
        gate[..., :32] = 1.0
        x = torch.where(gate.bool(), zb[:, :1, None, None], zf[:, :1, None, None]).expand(-1, 3, -1, -1) / 10
        return {"x": x, "gate": gate}


def test_layer_measures_see_which_latent_moves_which_pixels(tiny_datasets):
    test = ProcessedDataset(tiny_datasets["synth-faces"][1], "test")
    m = layer_measures(Layers(), test, CFG, torch.device("cpu"))
    assert np.allclose(m["vary_zb"]["inside"], 0) and (m["vary_zb"]["outside"] > 0).all()
    assert np.allclose(m["vary_zf"]["outside"], 0) and (m["vary_zf"]["inside"] > 0).all()
    assert len(m["vary_zb"]["inside"]) == CFG.n_draws


def test_every_progression_has_its_own_key():
    keys = [row_key(label) for label, _ in PROGRESSIONS]
    assert len(set(keys)) == len(keys)          # birds have two primary-colour rows
    assert row_key("primary colour: blue → yellow") == "primary_colour_blue_to_yellow"


def test_training_ranges_are_the_columns_extremes_and_a_safe_spread():
    from attr2img.edits import training_ranges

    ya = torch.tensor([[0.0, 2.0, -1.0], [4.0, 2.0, 1.0], [2.0, 2.0, 3.0]])
    lo, hi, std = training_ranges(ya)
    assert lo.tolist() == [0.0, 2.0, -1.0] and hi.tolist() == [4.0, 2.0, 3.0]
    assert torch.allclose(std[[0, 2]], torch.tensor([2.0, 2.0]))        # sample sd of {0, 2, 4} and {-1, 1, 3}
    assert abs(float(std[1]) - 1e-6) < 1e-12                             # a constant column divides safely
