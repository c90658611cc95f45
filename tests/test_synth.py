"""The embedded synthetic datasets: determinism, masks, attributes."""

import numpy as np
import pytest

from attr2img.data import synth
from attr2img.data.synth import birds as synth_birds, faces as synth_faces
from attr2img.data.real.names import CUB_COLORS, CUB_GROUPS, LFW_ATTRIBUTES

NAMES = sorted(synth.DATASETS)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_bytes_other_seed_differs(name):
    a, b, c = synth.generate(name, 40, 7), synth.generate(name, 40, 7), synth.generate(name, 40, 8)
    for key in ("images", "masks", "attributes"):
        assert a[key].tobytes() == b[key].tobytes()
    assert not np.array_equal(a["images"], c["images"])
    assert not np.array_equal(a["attributes"], c["attributes"])


@pytest.mark.parametrize("name", NAMES)
def test_result_does_not_depend_on_chunking(name):
    a, b = synth.generate(name, 50, 3, chunk=7), synth.generate(name, 50, 3, chunk=64)
    assert np.array_equal(a["images"], b["images"]) and np.array_equal(a["masks"], b["masks"])


@pytest.mark.parametrize("name", NAMES)
def test_shapes_dtypes_and_nontrivial_content(name):
    d = synth.generate(name, 30, 0)
    gen = synth.DATASETS[name]
    assert d["images"].shape == (30, 64, 64, 3) and d["images"].dtype == np.uint8
    assert d["masks"].shape == (30, 64, 64) and set(np.unique(d["masks"])) <= {0, 255}
    assert d["attributes"].shape == (30, len(gen.ATTRIBUTES)) and d["attributes"].dtype == np.float32
    fg = (d["masks"] > 0).mean(axis=(1, 2))
    assert fg.min() > 0.03 and fg.max() < 0.8, "every image has a foreground and a background"
    # backgrounds are natural-image crops, not flat colour
    bg_std = [d["images"][i][d["masks"][i] == 0].std() for i in range(30)]
    assert np.median(bg_std) > 10


@pytest.mark.parametrize("gen", [synth_faces, synth_birds])
def test_nuisance_redrawn_for_fixed_semantic_factors_keeps_the_attributes(gen):
    """sample_nuisance draws every factor that is not SEMANTIC; re-drawn for the same semantic
    factors (the oracle generator of benchmarks/oracle_generator.py), the noise-free attributes
    are unchanged while the pixels change."""
    f = synth.float32(gen.sample_factors(np.random.default_rng(0), 24))
    semantic = {k: f[k] for k in gen.SEMANTIC}
    redrawn = {**semantic, **gen.sample_nuisance(np.random.default_rng(1), semantic)}
    assert set(redrawn) == set(f), "sample_factors draws exactly the semantic and the nuisance factors"
    assert set(gen.SEMANTIC).isdisjoint(gen.sample_nuisance(np.random.default_rng(1), semantic))
    assert np.array_equal(gen.clean_attributes(redrawn), gen.clean_attributes(f))
    a, _ = synth.render(gen.NAME, f)
    b, _ = synth.render(gen.NAME, redrawn)
    assert all(not np.array_equal(a[i], b[i]) for i in range(len(a)))
    # and a different semantic factor does change the attributes, so the check above can fail
    other = {**f, gen.SEMANTIC[0]: np.roll(f[gen.SEMANTIC[0]], 1)}
    assert not np.array_equal(gen.clean_attributes(other), gen.clean_attributes(f))


@pytest.mark.parametrize("gen", [synth_faces, synth_birds])
def test_mask_is_exactly_the_rendered_foreground(gen):
    """Swapping the background changes only pixels outside the mask (up to the 1-px antialiased
    edge), and pixels deep inside the mask not at all."""
    rng = np.random.default_rng(0)
    f = gen.sample_factors(rng, 16)
    f = {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in f.items()}
    g = dict(f, bg_source=(f["bg_source"] + 5) % 14, bg_gain=f["bg_gain"][::-1].copy())
    img_a, cover = gen.render(f)
    img_b, cover_b = gen.render(g)
    assert np.array_equal(cover, cover_b)
    changed = np.abs(img_a - img_b).max(axis=1) > 1e-6
    assert not changed[cover >= 1.0].any(), "fully covered pixels must not show the background"
    assert changed[cover <= 0.0].mean() > 0.9, "uncovered pixels show the background"


def test_face_attribute_names_are_lfw_names():
    assert set(synth_faces.ATTRIBUTES) <= set(LFW_ATTRIBUTES)
    for required in ("Male", "Smiling", "Frowning", "Eyeglasses", "Sunglasses", "Mouth Wide Open",
                     "Black Hair", "Blond Hair", "Brown Hair", "Gray Hair", "Youth", "Senior",
                     "Pale Skin", "Bangs", "No Beard"):
        assert required in synth_faces.ATTRIBUTES


def test_bird_attribute_names_follow_cub():
    for name in synth_birds.ATTRIBUTES:
        group, value = name.split("::")
        assert group in CUB_GROUPS
        if group.endswith("_color"):
            assert value in CUB_COLORS
    groups = {n.split("::")[0] for n in synth_birds.ATTRIBUTES}
    assert {"has_primary_color", "has_wing_color", "has_wing_pattern", "has_bill_length", "has_size"} <= groups


def test_face_scores_are_lfw_like_and_both_signs_occur():
    a = synth.generate("synth-faces", 400, 1)["attributes"]
    assert np.abs(a).max() < 5
    assert ((a > 0).mean(0) > 0.05).all() and ((a < 0).mean(0) > 0.05).all()


def test_bird_labels_are_sparse_one_hot_per_group():
    a = synth.generate("synth-birds", 400, 1)["attributes"]
    assert set(np.unique(a)) == {0.0, 1.0}
    start = 0
    for _, values in synth_birds.GROUPS:
        block = a[:, start:start + len(values)]
        assert (block.sum(1) == 1).mean() > 0.85   # one-hot up to label noise
        start += len(values)


def test_face_attributes_are_visible_in_the_pixels():
    d = synth.generate("synth-faces", 600, 2)
    a, img = d["attributes"], d["images"].astype(np.float32)
    col = synth_faces.ATTRIBUTES.index
    eyes = img[:, 27:32, 25:39].mean(axis=(1, 2, 3))          # the eyes of the face template
    assert eyes[a[:, col("Sunglasses")] > 1].mean() < eyes[a[:, col("Sunglasses")] < -1].mean() - 25
    skin = a[:, col("Pale Skin")]
    face = img[:, 28:40, 26:38].mean(axis=(1, 2, 3))
    assert np.corrcoef(skin, face)[0, 1] > 0.5


def _render_face_with(**factors):
    """One face (no bangs, beard or glasses, not bald) rendered once per value of the changed factor."""
    f = synth_faces.sample_factors(np.random.default_rng(3), 1)
    f.update(bald=np.array([False]), bangs=np.array([False]), beard=np.array([False]),
             mustache=np.array([False]), eyewear=np.array([0]), tone=np.array([0.2]), male=np.array([False]),
             lipstick=np.array([0.0]))
    (key, values), = factors.items()
    out = []
    for value in values:
        g = dict(f)
        g[key] = np.array([value])
        out.append(synth_faces.render(g)[0][0])
    return out


def test_age_draws_lines_not_only_a_darker_skin():
    # LFW's Youth / Senior are classifier outputs on the image, so age must be visible: with age
    # the skin darkens uniformly *and* lines appear, so the old/young ratio is not constant on the skin
    young, old = _render_face_with(age=(0.0, 1.0))
    skin = (np.abs(young - synth_faces.SKIN_PALE[:, None, None] * 0.9).max(0) < 0.2)
    ratio = (old.mean(0) / young.mean(0))[skin]
    assert skin.sum() > 100
    assert (ratio < 0.85 * np.median(ratio)).sum() >= 10


def test_gender_shows_in_the_lips():
    woman, man = _render_face_with(male=(False, True))
    reddest = lambda img: np.sort((img[0] - img[1]).ravel())[-5:].mean()      # noqa: E731
    assert reddest(woman) > reddest(man) + 0.1


def test_moustache_is_darker_than_a_beard():
    f = {**synth_faces.sample_factors(np.random.default_rng(4), 1), "hair": np.array([1]),   # blond
         "bald": np.array([False]), "beard": np.array([True])}
    plain, with_moustache = (synth_faces.render({**f, "mustache": np.array([m])})[0][0].mean(0) for m in (False, True))
    changed = np.abs(with_moustache - plain) > 0.05
    assert changed.sum() >= 5
    assert (with_moustache - plain)[changed].mean() < -0.05


@pytest.mark.parametrize("key", synth_faces.GRADED)
def test_each_graded_face_score_is_drawn_in_proportion(key):
    """Every graded level is a score of its own (its column rises with it and no other moves) and
    the renderer draws it: the face changes from level 0 to 0.5 and more from 0 to 1."""
    f = synth.float32(synth_faces.sample_factors(np.random.default_rng(5), 1))
    f.update(male=np.array([True]), beard=np.array([False]), mustache=np.array([False]), bald=np.array([False]),
             bangs=np.array([False]), eyewear=np.array([0]))
    levels = [{**f, key: np.array([v], np.float32)} for v in (0.0, 0.5, 1.0)]
    scores = np.concatenate([synth_faces.clean_attributes(g) for g in levels])
    col = synth_faces.ATTRIBUTES.index(synth_faces.GRADED[key])
    assert scores[0, col] < scores[1, col] < scores[2, col]
    assert np.array_equal(np.delete(scores, col, 1), np.delete(scores[[0, 0, 0]], col, 1))
    img = [synth_faces.render(g)[0][0] for g in levels]
    half, full = np.abs(img[1] - img[0]).sum(), np.abs(img[2] - img[0]).sum()
    assert 0 < half < full and np.abs(img[2] - img[0]).max() > 0.1


def test_face_scores_are_graded_and_correlated_like_lfws():
    """Most scores are graded levels, not two levels with noise; some pairs correlate as LFW's do."""
    d = synth.generate("synth-faces", 800, 3)
    clean = d["clean_attributes"]
    graded = [len(np.unique(np.round(clean[:, j], 3))) > 20 for j in range(clean.shape[1])]
    assert np.mean(graded) > 0.5
    r = np.corrcoef(clean.T)
    col = synth_faces.ATTRIBUTES.index
    assert r[col("Male"), col("Wearing Lipstick")] < -0.5 and r[col("Male"), col("Bushy Eyebrows")] > 0.3
    assert r[col("Senior"), col("Strong Nose-Mouth Lines")] > 0.4


def test_bird_crown_and_bill_colours_are_drawn():
    """The crown's and the bill's colour labels show in the pixels of the head and the bill."""
    f = synth.float32(synth_birds.sample_factors(np.random.default_rng(6), 1))
    f.update(theta=np.array([0.0], np.float32), mirror=np.array([1.0], np.float32), bill=np.array([2]))
    for key, group in (("crown", "has_crown_color"), ("bill_color", "has_bill_color")):
        values = dict(synth_birds.GROUPS)[group]
        birds = [{**f, key: np.array([c])} for c in range(len(values))]
        for c, g in enumerate(birds):
            labels = synth_birds.clean_attributes(g)[0]
            assert labels[synth_birds.ATTRIBUTES.index(f"{group}::{values[c]}")] == 1
        img = [synth_birds.render(g)[0][0] for g in birds]
        assert all(np.abs(img[c] - img[0]).max() > 0.2 for c in range(1, len(values)))


def test_bird_colour_labels_are_visible_in_the_pixels():
    d = synth.generate("synth-birds", 600, 2)
    a, img, m = d["attributes"], d["images"].astype(np.float32), d["masks"] > 0
    col = synth_birds.ATTRIBUTES.index
    blueness = np.array([(img[i][m[i]][:, 2] - img[i][m[i]][:, 0]).mean() for i in range(len(img))])
    blue = a[:, col("has_primary_color::blue")] == 1
    yellow = a[:, col("has_primary_color::yellow")] == 1
    assert blueness[blue].mean() > blueness[yellow].mean() + 50
