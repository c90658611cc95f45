"""The processed-dataset format, its checksums, atomic writes and the torch loader."""

import json
import zipfile

import numpy as np
import pytest
import torch

from attr2img.atomic import atomic_dir, atomic_path
from attr2img.data.fmt import DatasetError, SPLITS, Split, load_split, read_card, write_dataset
from attr2img.data.loader import ProcessedDataset


def _splits(seed=0):
    rng = np.random.default_rng(seed)

    def one(n, tag):
        return Split(rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8),
                     np.where(rng.random((n, 8, 8)) < 0.5, 255, 0).astype(np.uint8),
                     rng.normal(size=(n, 3)).astype(np.float32),
                     np.array([f"{tag}-{i}" for i in range(n)]))
    return {s: one(n, s) for s, n in zip(SPLITS, (6, 2, 3))}


def _write(root, seed=0):
    return write_dataset(root, _splits(seed), ["a", "b", "c"], "continuous", {"name": "toy"})


def test_roundtrip_and_card(tmp_path):
    splits = _splits()
    card = write_dataset(tmp_path / "d", splits, ["a", "b", "c"], "continuous", {"name": "toy"})
    assert card["counts"] == {"train": 6, "val": 2, "test": 3}
    assert read_card(tmp_path / "d") == card
    for s in SPLITS:
        got = load_split(tmp_path / "d", s)
        for key in ("images", "masks", "attributes", "ids"):
            assert np.array_equal(getattr(got, key), getattr(splits[s], key))


def test_files_are_byte_reproducible(tmp_path):
    _write(tmp_path / "a")
    _write(tmp_path / "b")
    for name in ("card.json", "train.npz", "val.npz", "test.npz"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_modified_content_fails_the_checksum(tmp_path):
    _write(tmp_path / "d")
    path = tmp_path / "d" / "val.npz"
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["attributes"][0, 0] += 1.0
    np.savez(path, **arrays)
    with pytest.raises(DatasetError, match="checksum mismatch.*val.npz"):
        load_split(tmp_path / "d", "val")
    load_split(tmp_path / "d", "train")  # other splits are still fine


def test_edited_card_is_refused(tmp_path):
    _write(tmp_path / "d")
    card_path = tmp_path / "d" / "card.json"
    card = json.loads(card_path.read_text())
    card["splits"]["train"]["sha256"] = "0" * 64
    card_path.write_text(json.dumps(card))
    with pytest.raises(DatasetError, match="card"):
        read_card(tmp_path / "d")


def test_truncated_file_is_a_clear_error(tmp_path):
    _write(tmp_path / "d")
    path = tmp_path / "d" / "test.npz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DatasetError, match="cannot read .*test.npz"):
        load_split(tmp_path / "d", "test")


def test_missing_dataset_names_the_stage(tmp_path):
    with pytest.raises(DatasetError, match="attr2img prepare"):
        read_card(tmp_path / "nothing")


def test_bad_arrays_are_refused():
    s = _splits()["train"]
    with pytest.raises(DatasetError, match="attributes must be float32"):
        Split(s.images, s.masks, s.attributes.astype(np.float64), s.ids)
    with pytest.raises(DatasetError, match="masks"):
        Split(s.images, s.masks[:, :4], s.attributes, s.ids)
    with pytest.raises(DatasetError, match="names"):
        write_dataset("unused", _splits(), ["a", "b"], "continuous", {})


def test_failed_write_keeps_the_previous_dataset(tmp_path):
    _write(tmp_path / "d", seed=0)
    before = {p.name: p.read_bytes() for p in (tmp_path / "d").iterdir()}
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "d") as tmp:
            (tmp / "train.npz").write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert {p.name: p.read_bytes() for p in (tmp_path / "d").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"], "no temporary left behind"


def test_atomic_path_replaces_only_on_success(tmp_path):
    dest = tmp_path / "f.txt"
    dest.write_text("old")
    with pytest.raises(KeyError):
        with atomic_path(dest) as tmp:
            tmp.write_text("partial")
            raise KeyError
    assert dest.read_text() == "old"
    with atomic_path(dest) as tmp:
        tmp.write_text("new")
    assert dest.read_text() == "new" and oct(dest.stat().st_mode & 0o777) != "0o600"


def test_loader_yields_model_space_tensors(tiny_datasets):
    card, root = tiny_datasets["synth-faces"]
    ds = ProcessedDataset(root, "train")
    assert len(ds) == card["counts"]["train"] and ds.attribute_names == card["attribute_names"]
    x, m, y = ds[0]
    assert x.shape == (3, 64, 64) and m.shape == (1, 64, 64) and y.shape == (len(ds.attribute_names),)
    seen = 0
    for xb, mb, yb in ds.batches(10, shuffle=True, generator=torch.Generator().manual_seed(0)):
        assert xb.dtype == torch.float32 and xb.min() >= -1 and xb.max() <= 1
        assert xb.is_contiguous(memory_format=torch.channels_last)
        assert set(mb.unique().tolist()) <= {0.0, 1.0}
        seen += len(xb)
    assert seen == len(ds)
    raw = torch.from_numpy(load_split(root, "train").images[0]).permute(2, 0, 1).float()
    assert torch.allclose((x + 1) * 127.5, raw, atol=1e-3)


def test_stored_80_pixel_images_reach_the_models_at_64(tmp_path):
    rng = np.random.default_rng(0)
    img = np.zeros((2, 80, 80, 3), np.uint8)
    img[:, :40] = 200                                            # top half bright
    mask = np.zeros((2, 80, 80), np.uint8)
    mask[:, 20:60, 20:60] = 255
    split = Split(img, mask, rng.random((2, 3)).astype(np.float32), np.array(["a", "b"]))
    write_dataset(tmp_path, {s: split for s in ("train", "val", "test")}, ["x", "y", "z"], "binary", {})
    ds = ProcessedDataset(tmp_path, "train")
    x, m, _ = ds[0]
    assert x.shape == (3, 64, 64) and m.shape == (1, 64, 64)
    assert (x[:, :31] > 0.5).all() and (x[:, 33:] < -0.9).all()      # the halves stay where they were
    assert m[0, 16:48, 16:48].all() and m.sum() == 32 * 32                   # 40 of 80 pixels -> 32 of 64
