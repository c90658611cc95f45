"""Reading real photographs: colour conversions that keep colours, and bad files counted."""

from collections import Counter

import numpy as np
from PIL import Image

from attr2img.data.real.readimg import load_rgb


def _scene() -> np.ndarray:
    """A black bird with an orange beak on a light sky: colours an inversion would betray."""
    img = np.full((48, 64, 3), (200, 220, 240), np.uint8)
    img[10:40, 10:40] = (10, 10, 10)
    img[20:28, 40:56] = (240, 140, 20)
    return img


def test_a_cmyk_jpeg_keeps_its_colours(tmp_path):
    rgb = _scene()
    path = tmp_path / "bird.jpg"
    Image.fromarray(rgb).convert("CMYK").save(path, quality=98)
    assert Image.open(path).mode == "CMYK"
    counts = Counter()
    out = load_rgb(path, counts)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - rgb.astype(int)).mean() < 6, "colours survive the conversion"
    assert out[25, 25].max() < 50 and tuple(out[24, 48] > (200, 100, -1)) == (True, True, True)
    assert counts == Counter({"converted: CMYK to RGB": 1})


def test_palette_grayscale_and_16_bit_images_become_rgb(tmp_path):
    rgb = _scene()
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=8).save(tmp_path / "p.png")
    Image.fromarray(rgb[..., 0]).save(tmp_path / "g.png")
    Image.fromarray((rgb[..., 0].astype(np.uint16) * 257)).save(tmp_path / "g16.png")
    counts = Counter()
    pal, gray, g16 = (load_rgb(tmp_path / n, counts) for n in ("p.png", "g.png", "g16.png"))
    assert np.abs(pal.astype(int) - rgb.astype(int)).mean() < 12
    assert np.array_equal(gray, np.stack([rgb[..., 0]] * 3, -1))
    assert np.array_equal(g16, gray), "16-bit values scaled to 8 bits"
    assert counts["converted: palette to RGB"] == 1 and counts["converted: grayscale to RGB"] == 1
    assert counts["converted: 16-bit grayscale to RGB"] == 1


def test_truncated_and_non_image_files_are_counted_not_fatal(tmp_path):
    path = tmp_path / "cut.jpg"
    Image.fromarray(_scene()).save(path, quality=90)
    path.write_bytes(path.read_bytes()[:300])
    (tmp_path / "notes.jpg").write_text("not an image")
    counts = Counter()
    assert load_rgb(path, counts) is None and load_rgb(tmp_path / "notes.jpg", counts) is None
    assert counts == Counter({"skipped: unreadable image": 2})
