"""benchmarks/attribute_regime.py: each regime measure on attribute sets whose answer is known."""

import numpy as np
import pytest

from conftest import load_benchmark


@pytest.fixture(scope="module")
def regime():
    return load_benchmark("attribute_regime")


def test_continuity_is_zero_for_binary_labels_and_near_one_for_scores(regime):
    rng = np.random.default_rng(0)
    assert regime.continuity(rng.integers(0, 2, (500, 6))) == 0.0
    assert regime.continuity(rng.normal(size=(500, 6))) == pytest.approx(1.0, abs=0.01)
    three = rng.integers(0, 3, (3000, 1))          # three equally common levels: a third lies outside two
    assert regime.continuity(three) == pytest.approx(1 / 3, abs=0.03)


def test_two_level_share_tells_noisy_labels_from_graded_scores(regime):
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 2, (4000, 3)).astype(float)
    assert regime.two_level_share(labels) == pytest.approx(1.0)
    assert regime.two_level_share(labels + rng.normal(scale=0.1, size=labels.shape)) > 0.9
    assert regime.two_level_share(rng.normal(size=(20000, 3))) == pytest.approx(2 / np.pi, abs=0.01)


def test_participation_ratio_counts_independent_directions(regime):
    rng = np.random.default_rng(1)
    assert regime.participation_ratio(rng.normal(size=(20000, 8))) == pytest.approx(8, rel=0.02)
    one = rng.normal(size=(2000, 1)) @ rng.normal(size=(1, 8))       # eight copies of one direction
    assert regime.participation_ratio(one) == pytest.approx(1.0, abs=1e-6)
    # two directions, one with 3x the standard deviation: (9 + 1)^2 / (81 + 1) by covariance,
    # 2 once each column is scaled to unit variance
    two = rng.normal(size=(50000, 2)) * [3.0, 1.0]
    assert regime.participation_ratio(two) == pytest.approx(100 / 82, rel=0.02)
    assert regime.participation_ratio(two, standardise=True) == pytest.approx(2.0, rel=0.01)


def test_mean_abs_correlation(regime):
    rng = np.random.default_rng(2)
    a = rng.normal(size=(5000, 1))
    assert regime.mean_abs_correlation(np.hstack([a, -a, 2 * a])) == pytest.approx(1.0)
    assert regime.mean_abs_correlation(rng.normal(size=(20000, 4))) < 0.02


def test_nn_attribute_cosine_is_one_for_twins_and_lower_otherwise(regime):
    rng = np.random.default_rng(3)
    train = rng.normal(size=(300, 10))
    assert regime.nn_attribute_cosine(train, train[:50]) == pytest.approx(1.0)
    # a vector and its exact opposite in the training set: the nearest is the vector itself
    assert regime.nn_attribute_cosine(np.vstack([train, -train]), train[:5]) == pytest.approx(1.0)
    # in 10 dimensions 300 random training vectors leave the nearest far from a fresh query
    assert regime.nn_attribute_cosine(train, rng.normal(size=(50, 10))) < 0.8
    # with only two binary attributes every query has a twin among 300 training vectors
    bits = rng.integers(0, 2, (300, 2)).astype(float) + 1
    assert regime.nn_attribute_cosine(bits, bits[::-1][:20]) == pytest.approx(1.0)
