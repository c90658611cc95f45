"""`attr2img edit` and `attr2img serve`, used as a person would: the API on 127.0.0.1 with
concurrent clients, bad input, and (where Chromium is installed) a real browser."""

import io
import json
import shutil
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from attr2img.cli import main
from attr2img.data.fmt import load_split
from attr2img.data.synth import faces as synth_faces
from attr2img.editing import Editor
from attr2img.errors import UsageError
from attr2img.explorer import MAX_UPLOAD, make_server
from conftest import ROOT

N_FACE_ATTRIBUTES = len(synth_faces.ATTRIBUTES)


@pytest.fixture(scope="module")
def models_dir(tiny_models, tmp_path_factory):
    """models/<dataset>/<model>/ as the pipeline lays them out."""
    root = tmp_path_factory.mktemp("explorer") / "models"
    for dataset, (folder, _) in tiny_models.items():
        for model in ("vae", "cvae", "discvae", "regressor"):
            shutil.copytree(folder / model, root / dataset / model)
    return root


@pytest.fixture(scope="module")
def server(models_dir):
    srv = make_server(models_dir, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


def post(url, body: bytes):
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/octet-stream"})
    return get(req)


def png_bytes(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return buf.getvalue()


def test_the_catalog_lists_the_conditional_generators_with_grouped_attributes(server):
    status, ctype, body = get(server + "/api/models")
    cat = json.loads(body)
    assert status == 200 and ctype == "application/json"
    keys = {m["key"] for m in cat["models"]}
    assert keys == {"synth-faces/cvae", "synth-faces/discvae", "synth-birds/cvae", "synth-birds/discvae"}
    assert "VAE" in cat["not_listed"]
    birds = next(m for m in cat["models"] if m["key"] == "synth-birds/discvae")
    assert birds["layered"] and {a["group"] for a in birds["attributes"]} >= {"has_wing_color", "has_size"}
    assert all((a["min"], a["max"]) == (0.0, 1.0) for a in birds["attributes"])


def test_render_is_a_pure_function_of_the_state(server):
    base = server + "/api/render?model=synth-faces/discvae&fseed=1&bseed=2"
    a, b = get(base)[2], get(base)[2]
    assert a == b and a[:8] == b"\x89PNG\r\n\x1a\n"
    assert get(base + "&set.Smiling=3")[2] != a                        # an attribute moves the image
    assert get(base.replace("bseed=2", "bseed=3"))[2] != a              # so does z_B
    from PIL import Image

    strip = Image.open(io.BytesIO(a))
    assert strip.size == (4 * 256 + 3 * 2 * 4, 256)                   # image, foreground, background, gate
    assert Image.open(io.BytesIO(get(server + "/api/render?model=synth-faces/cvae&fseed=1")[2])).size == (256, 256)


def test_eight_concurrent_clients_each_get_their_own_image(server):
    urls = [server + f"/api/render?model=synth-faces/discvae&fseed={i}&bseed={i}&set.Male={i / 4 - 1}"
            for i in range(8)]
    expected = [get(u)[2] for u in urls]
    assert len(set(expected)) == 8
    with ThreadPoolExecutor(8) as pool:
        for _ in range(3):
            assert [r[2] for r in pool.map(get, urls)] == expected


def test_upload_predicts_attributes_and_infers_z(server, tiny_datasets):
    test = load_split(tiny_datasets["synth-faces"][1], "test")
    status, _, body = post(server + "/api/upload?model=synth-faces/discvae", png_bytes(test.images[0]))
    assert status == 200, body
    out = json.loads(body)
    assert len(out["y"]) == test.attributes.shape[1] and len(out["z"]) > 0
    z = ",".join(map(str, out["z"]))
    y = ",".join(map(str, out["y"]))
    status, ctype, img = get(server + f"/api/render?model=synth-faces/discvae&y={y}&z={z}")
    assert status == 200 and ctype == "image/png"


@pytest.mark.parametrize("path, status, words", [
    ("/api/render?model=../../etc/passwd", 404, "unknown model"),
    ("/api/render?model=synth-faces/vae", 404, "unknown model"),
    ("/api/render?model=synth-faces/cvae&set.Wings=1", 400, "unknown attribute"),
    ("/api/render?model=synth-faces/cvae&set.Smiling=40", 422, "out of range"),
    ("/api/render?model=synth-faces/cvae&y=1,2,x", 400, "comma-separated numbers"),
    ("/api/render?model=synth-faces/cvae&y=1,2", 400, f"takes {N_FACE_ATTRIBUTES}"),
    ("/api/render?model=synth-faces/cvae&fseed=abc", 400, "integer"),
    ("/api/render?model=synth-faces/cvae&z=1,2", 400, "latent has"),
    ("/api/render?model=synth-faces/cvae&y=nan" + ",0" * (N_FACE_ATTRIBUTES - 1), 400, "NaN"),
    ("/api/render?fseed=1", 400, "missing parameter 'model'"),
    ("/api/render?model=synth-faces/cvae&&&=", 400, "malformed"),
    ("/etc/passwd", 404, "no such page"),
])
def test_bad_requests_get_a_clear_4xx(server, path, status, words):
    code, ctype, body = get(server + path)
    assert code == status and ctype == "application/json"
    assert words in json.loads(body)["error"]
    assert get(server + "/api/models")[0] == 200                      # and the server still serves


def test_bad_uploads_get_a_clear_4xx(server):
    code, _, body = post(server + "/api/upload?model=synth-faces/cvae", b"this is not an image")
    assert code == 415 and "not an image" in json.loads(body)["error"]
    code, _, body = post(server + "/api/upload?model=synth-faces/cvae", png_bytes(np.zeros((64, 64, 3), np.uint8))[:60])
    assert code == 415                                                # a truncated PNG
    code, _, body = post(server + "/api/upload?model=synth-faces/cvae", b"\0" * (MAX_UPLOAD + 1))
    assert code == 413 and "limit" in json.loads(body)["error"]


def test_edit_api_predicts_attributes_and_keeps_the_background(models_dir, tiny_datasets):
    test = load_split(tiny_datasets["synth-faces"][1], "test")
    ed = Editor(models_dir / "synth-faces" / "discvae")
    out = ed.edit(test.images[:2], {"Smiling": 2.5})
    assert out["predicted"] and out["images"].shape == (2, 64, 64, 3)
    j = ed.names.index("Smiling")
    assert np.allclose(out["after"][:, j], 2.5) and np.allclose(np.delete(out["after"], j, 1), np.delete(out["before"], j, 1))
    kept = ed.edit(test.images[:2], {"Smiling": 2.5}, keep_background=True)
    assert not np.array_equal(kept["images"], out["images"])
    given = ed.edit(test.images[:2], {}, attributes=test.attributes[:2])
    assert not given["predicted"] and np.allclose(given["before"], test.attributes[:2])
    with pytest.raises(UsageError, match="disCVAE"):
        Editor(models_dir / "synth-faces" / "cvae").edit(test.images[:1], {}, keep_background=True)


def test_edit_and_reconstruct_commands_say_which_attributes_were_predicted(models_dir, tiny_datasets, tmp_path):
    from skimage.io import imsave

    test = load_split(tiny_datasets["synth-faces"][1], "test")
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        imsave(photos / f"p{i}.png", test.images[i], check_contrast=False)
    model = str(models_dir / "synth-faces" / "discvae")
    main(["edit", "--model", model, "--images", str(photos), "--set", "Smiling=2", "--keep-background",
          "--iterations", "5", "--out", str(tmp_path / "edited")])
    record = json.loads((tmp_path / "edited" / "attributes.json").read_text())
    assert "predicted" in record["attributes"] and record["images"]["p0"]["after"]["Smiling"] == 2.0
    assert {p.name for p in (tmp_path / "edited").iterdir()} == {"p0.png", "p1.png", "strip.png", "attributes.json"}
    # an unknown attribute is refused as a usage error (exit 2), before anything is written
    assert main(["edit", "--model", model, "--images", str(photos), "--set", "Wings=2", "--out", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()
    main(["reconstruct", "--params", str(ROOT / "params.yaml"), "--model", model, "--images", str(photos),
          "--out", str(tmp_path / "rec")])
    assert "predicted" in json.loads((tmp_path / "rec" / "attributes.json").read_text())["attributes"]


# -- a real browser ----------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium)")
def test_a_person_moves_a_slider_and_uploads_a_photo_in_chromium(server, tiny_datasets, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    from skimage.io import imsave

    test = load_split(tiny_datasets["synth-faces"][1], "test")
    imsave(tmp_path / "photo.png", test.images[0], check_contrast=False)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(server + "/#model=synth-faces/discvae&fseed=3&bseed=4")
        page.wait_for_function("document.getElementById('image').dataset.state !== undefined")

        def shown():
            state = page.eval_on_selector("#image", "e => e.dataset.state")
            data = page.evaluate("async () => { const b = await (await fetch(document.getElementById('image').src)).arrayBuffer();"
                                 " return Array.from(new Uint8Array(b)); }")
            return state, bytes(data)

        state0, img0 = shown()
        slider = page.locator("input[aria-label='Smiling']")
        slider.fill("3")                                          # moves the slider, fires 'input'
        page.wait_for_function(f"document.getElementById('image').dataset.state !== {json.dumps(state0)}")
        state1, img1 = shown()
        assert img1 != img0 and "model=synth-faces%2Fdiscvae" in state1
        assert img1 == get(server + "/api/render?" + state1)[2]          # what the API returns for that state
        assert "y=" in page.url                                          # the state is in the URL

        page.set_input_files("#upload", str(tmp_path / "photo.png"))
        page.wait_for_function("document.getElementById('image').dataset.state.includes('z=')", timeout=30000)
        state2, img2 = shown()
        assert img2 == get(server + "/api/render?" + state2)[2]
        page.locator("input[aria-label='Male']").fill("2")
        page.wait_for_function(f"document.getElementById('image').dataset.state !== {json.dumps(state2)}")
        state3, img3 = shown()
        assert img3 != img2 and "z=" in state3                            # the photo's z is edited, kept
        browser.close()
