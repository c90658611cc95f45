"""CUB-200-2011 end to end, offline: tiny archives in the real layouts are served from
127.0.0.1, fetched, verified, extracted and prepared into the processed format."""

import hashlib
import shutil

import imageio.v3 as iio
import numpy as np
import pytest

from attr2img.data.real import cub, fetch
from attr2img.data.real.fetch import Policy, RemoteFile, Source
from attr2img.data.fmt import load_split, read_card
from attr2img.errors import DatasetError
from fakehost import host, tgz  # noqa: F401  (host is a fixture)

FAST = Policy(attempts=2, backoff=0.0, timeout=5.0, progress=False, sleep=lambda s: None)
CLASSES = ["001.Black_footed_Albatross", "014.Indigo_Bunting"]
STEMS = ["Black_Footed_Albatross_00{:02d}_{}", "Indigo_Bunting_00{:02d}_{}"]
TEST_IDS = {3, 7, 12}
# (id, class, stem, 1 = train / 0 = test), as images.txt and train_test_split.txt
IMAGES = [(i, i % 2, STEMS[i % 2].format(i, 100 + i), int(i not in TEST_IDS)) for i in range(1, 15)]
GRAY, CORRUPT = 4, 6                        # a grayscale JPEG and a truncated one


def _jpeg(img):
    return iio.imwrite("<bytes>", img, extension=".jpg", quality=95)


def _png(img):
    return iio.imwrite("<bytes>", img, extension=".png")


def _bird(k, h=90, w=120):
    """A bird-ish ellipse on a textured background, and its soft segmentation (0-255)."""
    yy, xx = np.mgrid[:h, :w]
    cy, cx, ry, rx = 30 + 2 * k, 40 + 3 * k, 12 + k % 4, 20 - k % 5
    inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
    seg = np.clip((1.2 - inside) * 255, 0, 255).astype(np.uint8)      # soft edge
    rng = np.random.default_rng(k)
    img = (rng.random((h, w, 3)) * 60 + 100).astype(np.uint8)
    img[inside < 1] = (200, 60 + 10 * k, 40)
    return img, seg


def _label(img_id, attr):
    return int((img_id * 7 + attr * 3) % 5 == 0)


def _archives(attributes_beside=True):
    names = [f"{i} has_bill_shape::shape_{i}" for i in range(1, 313)]
    names[0] = "1 has_bill_shape::curved_(up_or_down)"
    names[248], names[254] = "249 has_primary_color::blue", "255 has_primary_color::yellow"   # Figure 4's
    attr_lines = []
    for img_id, *_ in IMAGES:
        for a in range(1, 313):
            line = f"{img_id} {a} {_label(img_id, a)} 3 12.5"
            if img_id == 2 and a in (5, 6):            # the released file's malformed lines: 6 fields
                line = f"{img_id} {a} {_label(img_id, a)} 3 0 13.34"
            attr_lines.append(line)
    files = {"CUB_200_2011": None, "CUB_200_2011/images": None, "CUB_200_2011/attributes": None,
             "CUB_200_2011/images.txt": "".join(f"{i} {CLASSES[c]}/{s}.jpg\n" for i, c, s, _ in IMAGES).encode(),
             "CUB_200_2011/classes.txt": "".join(f"{k + 1} {c}\n" for k, c in enumerate(CLASSES)).encode(),
             "CUB_200_2011/image_class_labels.txt": "".join(f"{i} {c + 1}\n" for i, c, _, _ in IMAGES).encode(),
             "CUB_200_2011/train_test_split.txt": "".join(f"{i} {t}\n" for i, _, _, t in IMAGES).encode(),
             "CUB_200_2011/bounding_boxes.txt": "".join(f"{i} 10.0 12.0 60.0 40.0\n" for i, *_ in IMAGES).encode(),
             "CUB_200_2011/attributes/image_attribute_labels.txt": ("\n".join(attr_lines) + "\n").encode(),
             "CUB_200_2011/attributes/certainties.txt": b"1 not visible\n2 guessing\n3 probably\n4 definitely\n"}
    attrs_at = "attributes.txt" if attributes_beside else "CUB_200_2011/attributes/attributes.txt"
    files[attrs_at] = ("\n".join(names) + "\n").encode()
    segs = {"segmentations": None}
    for img_id, c, stem, _ in IMAGES:
        img, seg = _bird(img_id)
        data = _jpeg(img[..., 0] if img_id == GRAY else img)
        files[f"CUB_200_2011/images/{CLASSES[c]}/{stem}.jpg"] = data[:300] if img_id == CORRUPT else data
        segs[f"segmentations/{CLASSES[c]}/{stem}.png"] = _png(seg)
    files[f"CUB_200_2011/images/{CLASSES[1]}/{IMAGES[0][2]}_rgb.jpg"] = _jpeg(_bird(1)[0])  # a stray file
    return tgz(files), tgz(segs)


def _sources(host, images, segs):
    host.files.update({"/records/cub.tgz": images, "/records/seg.tgz": segs})
    sha = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    return (Source("cub", (RemoteFile("CUB_200_2011.tgz", (host.url("/records/cub.tgz"),), sha256=sha(images),
                                      size=len(images), extract=True),)),
            Source("cub-segmentations", (RemoteFile("segmentations.tgz", (host.url("/records/seg.tgz"),),
                                                    sha256=sha(segs), extract=True),)))


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    from fakehost import Host
    import threading

    server = Host()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        tmp = tmp_path_factory.mktemp("cub")
        src_images, src_segs = _sources(server, *_archives())
        fetch.run(src_images, tmp / "resources/cub", FAST)
        fetch.run(src_segs, tmp / "resources/cub-segmentations", FAST)
    finally:
        server.shutdown()
        server.server_close()
    card = cub.prepare(tmp / "resources/cub", tmp / "resources/cub-segmentations", tmp / "processed", size=80)
    return tmp, card


def test_fetch_and_prepare_give_the_processed_format(prepared):
    tmp, card = prepared
    assert read_card(tmp / "processed") == card
    # train ids in listing order 1 2 4 5 6 8 9 10 11 13 14: the 10th (13) is validation; 6 is corrupt
    assert card["counts"] == {"train": 9, "val": 1, "test": 3}
    assert list(load_split(tmp / "processed", "val").ids) == ["cub-00013"]
    assert "cub-00006" not in load_split(tmp / "processed", "train").ids
    assert card["image_size"] == 80 and card["attribute_kind"] == "binary" and len(card["attribute_names"]) == 312
    assert card["attribute_names"][0] == "has_bill_shape::curved_(up_or_down)"


def test_bad_files_are_converted_or_skipped_and_counted(prepared):
    _, card = prepared
    counts = card["preparation"]["counts"]
    assert counts["skipped: unreadable image"] == 1
    assert counts["converted: grayscale to RGB"] == 1
    assert counts["ignored: files not in images.txt"] == 1


def test_attributes_read_the_first_four_fields_even_of_malformed_lines(prepared):
    tmp, _ = prepared
    split = load_split(tmp / "processed", "train")
    row = split.attributes[list(split.ids).index("cub-00002")]
    assert row.tolist() == [float(_label(2, a)) for a in range(1, 313)]


def test_crops_center_the_bird_and_masks_are_binary(prepared):
    tmp, _ = prepared
    for s in ("train", "test"):
        split = load_split(tmp / "processed", s)
        assert split.images.shape[1:] == (80, 80, 3)
        assert set(np.unique(split.masks)) <= {0, 255}
        for m in split.masks:
            ys, xs = np.nonzero(m)
            assert abs(ys.mean() - 40) < 4 and abs(xs.mean() - 40) < 4
            # 10 % margin: the bird spans about 1/1.1 of the side along its longer axis
            assert 0.8 * 80 < max(np.ptp(ys), np.ptp(xs)) + 1 < 0.95 * 80


def test_attributes_txt_is_found_in_either_place(prepared, tmp_path):
    tmp, _ = prepared
    alt = tmp_path / "cub"
    shutil.copytree(tmp / "resources/cub", alt)
    (alt / "attributes.txt").rename(alt / "CUB_200_2011" / "attributes" / "attributes.txt")
    assert cub.find_attribute_names(alt) == alt / "CUB_200_2011" / "attributes" / "attributes.txt"
    (alt / "CUB_200_2011" / "attributes" / "attributes.txt").unlink()
    with pytest.raises(DatasetError, match="no attributes.txt"):
        cub.read_metadata(alt)


def _label_file(tmp_path, extra_lines=(), n_images=40):
    lines = [f"{i} {a} {(i + a) % 2} 3 12.5" for i in range(1, n_images + 1) for a in range(1, 313)]
    lines[4] = "1 5 1 3 0 13.34"                     # six fields, as 606 released lines: fine
    path = tmp_path / "image_attribute_labels.txt"
    path.write_text("\n".join(lines + list(extra_lines)) + "\n")
    return path, len(lines)


def test_attribute_label_lines_are_checked_with_their_line_numbers(tmp_path, capsys):
    from attr2img.data.real.cub import read_attribute_labels

    path, n = _label_file(tmp_path, ["3 0 1 3 1.0", "3 313 1 3 1.0", "3 x 1 3 1.0", "3 7"])
    labels, problems = read_attribute_labels(path)
    assert labels[3][311] == (3 + 312) % 2, "attribute id 0 does not overwrite attribute 312"
    assert labels[1][4] == 1.0 and len(labels) == 40
    assert problems == {"attribute id outside 1..312": {"lines": 2, "first": [n + 1, n + 2]},
                        "not a number": {"lines": 1, "first": [n + 3]},
                        "fewer than 3 fields": {"lines": 1, "first": [n + 4]}}
    err = capsys.readouterr().err
    assert f"{path}: skipped 4 malformed line(s)" in err and f"lines {n + 1}, {n + 2}" in err


def test_a_file_of_mostly_malformed_lines_is_refused(tmp_path):
    from attr2img.data.real.cub import read_attribute_labels

    path, n = _label_file(tmp_path, [f"1 {a} 2 3 1.0" for a in range(1, 300)], n_images=5)
    with pytest.raises(DatasetError, match=r"image_attribute_labels.txt: 299 of \d+ lines are malformed"):
        read_attribute_labels(path)


def test_a_malformed_listing_line_names_file_and_line(tmp_path):
    from attr2img.data.real.cub import _id_pairs

    (tmp_path / "images.txt").write_text("1 a/b.jpg\nbroken\n")
    with pytest.raises(DatasetError, match=r"images.txt, line 2: expected '<id> <value>'"):
        _id_pairs(tmp_path / "images.txt")
