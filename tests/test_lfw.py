"""LFW end to end, offline: tiny archives and text files in the real layouts are served from
127.0.0.1, fetched, verified and prepared (alignment, attributes, View 1 split, masks)."""

import hashlib
import threading

import imageio.v3 as iio
import numpy as np
import pytest
from skimage import data as skdata
from skimage.transform import SimilarityTransform, warp

from attr2img.data import synth
from attr2img.data.real import fetch, lfw, partlabels
from attr2img.data.real.fetch import Policy, RemoteFile, Source
from attr2img.data.fmt import load_split
from fakehost import Host, tgz

facenet = pytest.importorskip("facenet_pytorch", reason="pip install --no-deps facenet-pytorch==2.6.0")
FAST = Policy(attempts=2, backoff=0.0, timeout=5.0, progress=False, sleep=lambda s: None)
NAMES = ["Male", "Asian", "White", "Black", "Baby"] + [f"Attribute {k}" for k in range(6, 74)]
# person -> how many images; View 1 puts the first two people in train, the last in test
PEOPLE = {"Aaron_Eckhart": 3, "Zico": 2, "Colin_Powell": 2}
NO_ROW = ("Zico", 2)                        # an image without an attribute row: dropped
NO_FACE = ("Colin_Powell", 2)               # a texture: the detector misses it


def _pose(k: int) -> SimilarityTransform:
    return SimilarityTransform(scale=1.0 + 0.08 * (k % 3), rotation=0.06 * (k % 3 - 1),
                               translation=(25 + 4 * k, 20 - 3 * k))


def _face(k: int) -> np.ndarray:
    """250x250 funneled-like frames: the astronaut's face under a different similarity each time."""
    img = skdata.astronaut()[30:230, 130:330]                                 # 200x200 around the face
    out = warp(img, _pose(k).inverse, output_shape=(250, 250), mode="edge", preserve_range=True)
    return out.astype(np.uint8)


def _part_label(k: int) -> np.ndarray:
    """A Part Labels-style PPM for frame k: red hair, green skin, blue background (not exactly 0/255)."""
    yy, xx = np.mgrid[:200, :200]
    skin = ((yy - 105) / 52.0) ** 2 + ((xx - 95) / 40.0) ** 2 < 1
    hair = (((yy - 75) / 50.0) ** 2 + ((xx - 95) / 55.0) ** 2 < 1) & ~skin
    lab = np.full((200, 200, 3), (12, 20, 240), np.uint8)
    lab[hair], lab[skin] = (235, 10, 18), (15, 228, 30)
    out = warp(lab, _pose(k).inverse, output_shape=(250, 250), order=0, mode="edge", preserve_range=True)
    return out.astype(np.uint8)


def _ppm(img: np.ndarray) -> bytes:
    return f"P6\n{img.shape[1]} {img.shape[0]}\n255\n".encode() + img.tobytes()


def _files():
    images, k = {"lfw_funneled": None}, 0
    for person, n in PEOPLE.items():
        images[f"lfw_funneled/{person}"] = None
        for i in range(1, n + 1):
            img = (np.random.default_rng(i).random((250, 250, 3)) * 255).astype(np.uint8) \
                if (person, i) == NO_FACE else _face(k)
            images[f"lfw_funneled/{person}/{person}_{i:04d}.jpg"] = iio.imwrite("<bytes>", img, extension=".jpg")
            k += 1
    rows = ["# created by the tiny test, like the real file's first comment line",
            "#\tperson\timagenum\t" + "\t".join(NAMES)]
    for person, n in PEOPLE.items():
        for i in range(1, n + 1):
            if (person, i) != NO_ROW:
                scores = [f"{(hash((person, i, a)) % 400 - 200) / 100:.6f}" for a in range(73)]
                rows.append("\t".join([person.replace("_", " "), str(i), *scores]))
    attributes = ("\n".join(rows) + "\n").encode()
    train = b"2\nAaron_Eckhart\t3\nZico\t2\n"
    test = b"1\nColin_Powell\t2\n"
    return tgz(images), attributes, train, test


# the Part Labels label frames 0-3: Aaron_Eckhart 1-3 and Zico 1
PART_SPLITS = {"parts_train.txt": b"Aaron_Eckhart 1\nAaron_Eckhart 2\n", "parts_validation.txt": b"Zico 1\n",
               "parts_test.txt": b"Aaron_Eckhart 3\n"}


def _part_labels():
    frames = {"Aaron_Eckhart_0001": 0, "Aaron_Eckhart_0002": 1, "Aaron_Eckhart_0003": 2, "Zico_0001": 3}
    return tgz({"parts_lfw_funneled_gt_images": None,
                **{f"parts_lfw_funneled_gt_images/{n}.ppm": _ppm(_part_label(k)) for n, k in frames.items()}})


@pytest.fixture(scope="module")
def resources(tmp_path_factory):
    archive, attributes, train, test = _files()
    server = Host()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.files.update({"/lfw/lfw-funneled.tgz": archive, "/cave/lfw_attributes.txt": attributes,
                         "/lfw/peopleDevTrain.txt": train, "/lfw/peopleDevTest.txt": test})
    sha = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    md5 = lambda b: hashlib.md5(b).hexdigest()  # noqa: E731
    res = tmp_path_factory.mktemp("resources")
    try:
        fetch.run(Source("lfw-funneled", (RemoteFile("lfw-funneled.tgz", (server.url("/lfw/lfw-funneled.tgz"),),
                                                     sha256=sha(archive), extract=True),)), res / "lfw-funneled", FAST)
        fetch.run(Source("lfw-attributes", (RemoteFile("lfw_attributes.txt", (server.url("/cave/lfw_attributes.txt"),),
                                                       md5=md5(attributes)),)), res / "lfw-attributes", FAST)
        fetch.run(Source("lfw-view1", (RemoteFile("peopleDevTrain.txt", (server.url("/lfw/peopleDevTrain.txt"),), md5=md5(train)),
                                       RemoteFile("peopleDevTest.txt", (server.url("/lfw/peopleDevTest.txt"),), md5=md5(test)))),
                  res / "lfw-view1", FAST)
        parts = _part_labels()
        server.files["/parts/parts_lfw_funneled_gt_images.tgz"] = parts
        server.files.update({f"/parts/{n}": b for n, b in PART_SPLITS.items()})
        fetch.run(Source("lfw-part-labels", (
            RemoteFile("parts_lfw_funneled_gt_images.tgz", (server.url("/parts/parts_lfw_funneled_gt_images.tgz"),),
                       md5=md5(parts), extract=True),
            *(RemoteFile(n, (server.url(f"/parts/{n}"),)) for n in PART_SPLITS))), res / "lfw-part-labels", FAST)
    finally:
        server.shutdown()
        server.server_close()
    return res


@pytest.fixture(scope="module")
def mtcnn():
    return lfw.detector("cpu")


@pytest.fixture(scope="module")
def prepared(resources, mtcnn, tmp_path_factory):
    out = tmp_path_factory.mktemp("processed") / "lfw"
    card = lfw.prepare(resources / "lfw-funneled", resources / "lfw-attributes/lfw_attributes.txt",
                       resources / "lfw-view1", out, mtcnn=mtcnn)
    return out, card


def test_mtcnn_runs_with_our_torch_and_finds_the_landmarks(mtcnn):
    (pts,) = lfw.landmarks(mtcnn, [skdata.astronaut()])
    assert pts.shape == (5, 2)
    left_eye, right_eye, nose, mouth_l, mouth_r = pts
    assert left_eye[0] < nose[0] < right_eye[0] and max(left_eye[1], right_eye[1]) < nose[1] < mouth_l[1]
    assert 150 < left_eye[0] < 260 and 60 < left_eye[1] < 160          # the astronaut's face


def test_batched_landmarks_match_one_image_at_a_time(mtcnn):
    texture = (np.random.default_rng(0).random((250, 250, 3)) * 255).astype(np.uint8)     # no face
    images = [_face(0), _face(1), texture, skdata.astronaut(), _face(2), _face(3), _face(4)]  # sizes change
    one = [lfw.landmarks(mtcnn, [img])[0] for img in images]
    batched = lfw.landmarks(mtcnn, images, batch=2)
    assert [p is None for p in batched] == [p is None for p in one] == [False, False, True, False, False, False, False]
    for a, b in zip(one, batched):
        if a is not None:
            assert np.abs(a - b).max() < 1e-3


def test_a_missing_module_of_facenet_is_named():
    msg = lfw.missing_module_message(ImportError("No module named 'requests'", name="requests"))
    assert "'requests'" in msg and "[lfw]" in msg
    assert "--no-deps facenet-pytorch==2.6.0" in lfw.missing_module_message(ImportError(name="facenet_pytorch"))


def test_validation_holds_out_whole_identities():
    people = [f"person_{i}" for i in range(500)]
    val = lfw.validation_people(people)
    assert 25 <= len(val) <= 75 and val == lfw.validation_people(reversed(people))     # ~10 %, order-free
    assert len(lfw.validation_people(["a", "b"])) == 1 and lfw.validation_people(["a"]) == set()


def test_attributes_join_split_and_counts(prepared):
    out, card = prepared
    counts = card["preparation"]["counts"]
    assert counts["dropped: no attribute row"] == 1
    assert counts["detector misses (median transform used)"] == 1
    assert card["counts"]["test"] == 2 and card["counts"]["train"] + card["counts"]["val"] == 4
    assert card["attribute_names"] == NAMES and card["preparation"]["split"].startswith("View 1")
    train, val, test = (load_split(out, s) for s in ("train", "val", "test"))
    people = {split: {i.rsplit("_", 1)[0] for i in ds.ids} for split, ds in (("train", train), ("val", val))}
    assert people["val"] and people["train"] and not people["val"] & people["train"], "split by identity"
    assert {i.rsplit("_", 1)[0] for i in [*train.ids, *val.ids]} == {"Aaron_Eckhart", "Zico"}
    assert {i.rsplit("_", 1)[0] for i in test.ids} == {"Colin_Powell"}
    row = train.attributes[list(train.ids).index("Aaron_Eckhart_0002")]
    assert row[0] == pytest.approx((hash(("Aaron_Eckhart", 2, 0)) % 400 - 200) / 100)


def test_alignment_undoes_the_pose(prepared):
    out, _ = prepared
    faces = [f.astype(float) for s in ("train", "val", "test")
             for f, i in zip(load_split(out, s).images, load_split(out, s).ids) if i != "Colin_Powell_0002"]
    aligned_gap = np.mean([np.abs(a - b).mean() for a in faces for b in faces])
    raw = [_face(k)[::4, ::4][:62, :62].astype(float) for k in range(5)]
    raw_gap = np.mean([np.abs(a - b).mean() for a in raw for b in raw])
    assert aligned_gap < 0.5 * raw_gap, (aligned_gap, raw_gap)


def test_without_view1_files_the_identity_split_is_deterministic(resources, mtcnn, tmp_path):
    assert lfw.read_view1(tmp_path / "no-view1") is None
    card = lfw.prepare(resources / "lfw-funneled", resources / "lfw-attributes/lfw_attributes.txt",
                       tmp_path / "no-view1", tmp_path / "out", mtcnn=mtcnn)
    assert card["preparation"]["split"].startswith("deterministic identity split")
    for s in ("train", "val", "test"):
        for i in load_split(tmp_path / "out", s).ids:
            assert lfw.identity_split(i.rsplit("_", 1)[0]) == ("test" if s == "test" else "train")
    shares = [lfw.identity_split(f"Person_{k}") == "train" for k in range(4000)]
    assert abs(np.mean(shares) - lfw.VIEW1_TRAIN_FRACTION) < 0.03


def test_download_free_masks_recover_synth_faces_masks():
    data = synth.generate("synth-faces", 24, seed=5)
    iou = partlabels.mean_iou(np.stack([lfw.template_mask(img) for img in data["images"]]), data["masks"] > 127)
    assert iou > 0.5, iou


def test_masks_come_from_the_part_labels_network_when_they_are_there(resources, mtcnn, tmp_path, prepared):
    card = lfw.prepare(resources / "lfw-funneled", resources / "lfw-attributes/lfw_attributes.txt",
                       resources / "lfw-view1", tmp_path / "out", mtcnn=mtcnn, part_labels=resources / "lfw-part-labels")
    masks = card["preparation"]["masks"]
    assert masks["method"].startswith("segmentation network trained on the LFW Part Labels")
    assert 0.5 < masks["part_labels_test_iou"] <= 1.0, masks      # one test face, the same person, another pose
    assert prepared[1]["preparation"]["masks"]["method"].startswith("random walker"), "without them: download-free"
    assert not np.array_equal(load_split(tmp_path / "out", "train").masks, load_split(prepared[0], "train").masks)


def test_part_labels_are_read_by_channel_argmax(tmp_path):
    lab = np.zeros((4, 5, 3), np.uint8)
    lab[...] = (20, 30, 200)                                   # background
    lab[0, :2] = (230, 40, 10)                                 # hair
    lab[1, 1] = (40, 220, 60)                                  # skin
    (tmp_path / partlabels.LABELS).mkdir()
    (tmp_path / partlabels.LABELS / "Zico_0001.ppm").write_bytes(_ppm(lab))
    fg = partlabels.read_foreground(tmp_path, "Zico", 1)
    assert fg.sum() == 3 and fg[0, 0] and fg[0, 1] and fg[1, 1]
    assert partlabels.read_foreground(tmp_path, "Zico", 2) is None
    assert not partlabels.available(tmp_path), "the split lists are missing"


def test_the_segmenter_learns_masks_better_than_the_template_method():
    data = synth.generate("synth-faces", 260, seed=3)
    x, m = data["images"], data["masks"] > 127
    model = partlabels.train_segmenter(x[:200], m[:200], epochs=12, min_steps=0)
    learned = partlabels.mean_iou(partlabels.predict(model, x[200:]), m[200:])
    template = partlabels.mean_iou(np.stack([lfw.template_mask(i) for i in x[200:]]), m[200:])
    assert learned > 0.75 and learned > template + 0.1, (learned, template)
