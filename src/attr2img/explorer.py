"""``attr2img serve``: a local web page over trained models (issue 15).

    attr2img serve --models models/              # then open http://127.0.0.1:8765/

Pick a dataset and a conditional generator, move one slider per attribute, resample z (for
the disCVAE, lock z_F or z_B and see image, foreground, background and gate side by side),
upload a photo (reconstructed with its predicted attributes, then edited with the sliders)
and download the PNG. The VAE has no attributes and is not listed.

The server is Python's own ``http.server`` (threaded): no dependency, nothing fetched, the page
works offline. It is **stateless**: every request carries the whole state (model, y, and the
latent as seeds or as numbers), so concurrent users never see each other's state, and the
page keeps the same state in its URL, so a view can be shared and reloaded.

API (all GET parameters; errors are JSON ``{"error": ...}`` with a 4xx status):

- ``GET /api/models``: the models, their attributes (name, group, range, default) and latents.
- ``GET /api/render?model=D/M&y=v1,v2,...&fseed=N&bseed=N`` (or ``&z=...`` for explicit
  latents; ``&set.NAME=VALUE`` overrides single attributes): a PNG; for the disCVAE a strip of
  image, foreground, background and gate.
- ``POST /api/upload?model=D/M`` with an image file as the body (at most ``MAX_UPLOAD`` bytes):
  JSON with the predicted attributes ``y`` and the inferred latent ``z``.
"""

from __future__ import annotations

import io
import json
import threading
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import torch

from attr2img.catalog import CONDITIONAL
from attr2img.editing import Editor

MAX_UPLOAD = 4 * 1024 * 1024          # bytes: a photo larger than this is refused (413)
SCALE = 4                             # each 64x64 panel is shown at 256x256 (nearest neighbour)
RANGES = {"continuous": (-4.0, 4.0),  # LFW-style scores lie within about +-3
          "binary": (0.0, 1.0)}       # CUB-style labels; the sliders give probabilities


class BadRequest(Exception):
    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


def find_models(root) -> dict:
    """``{"dataset/model": folder}`` for every conditional generator under ``root``."""
    root = Path(root)
    found = {}
    for card in sorted(root.glob("*/*/card.json")):
        try:
            kind = json.loads(card.read_text()).get("model")
        except (OSError, json.JSONDecodeError):
            continue
        if kind in CONDITIONAL:
            found[f"{card.parent.parent.name}/{card.parent.name}"] = card.parent
    return found


def group_of(name: str) -> str:
    """CUB-style names group by family (``has_wing_color::blue`` -> ``has_wing_color``)."""
    return name.split("::", 1)[0] if "::" in name else "attributes"


def png(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).resize((image.shape[1] * SCALE, image.shape[0] * SCALE), Image.NEAREST).save(buf, "PNG")
    return buf.getvalue()


class Explorer:
    """The models behind the page; every method is a pure function of its arguments."""

    def __init__(self, models_dir, device: str = "cpu"):
        self.models_dir = Path(models_dir)
        self.folders = find_models(self.models_dir)
        if not self.folders:
            raise FileNotFoundError(f"no trained CVAE or disCVAE under {self.models_dir} (models/<dataset>/<model>/): "
                                    f"run the default pipeline first (dvc repro)")
        self.device = device
        self._lock = threading.Lock()
        self._editors: dict[str, Editor] = {}

    def editor(self, key: str) -> Editor:
        if key not in self.folders:          # only names from the scan: no path is built from the request
            raise BadRequest(HTTPStatus.NOT_FOUND, f"unknown model {key!r}; available: {', '.join(self.folders)}")
        with self._lock:
            if key not in self._editors:
                ed = Editor(self.folders[key], device=self.device)
                ed.model.eval()
                self._editors[key] = ed
            return self._editors[key]

    def catalog(self) -> dict:
        models = []
        for key in self.folders:
            ed = self.editor(key)
            kind = ed.model.cfg.attribute_kind
            lo, hi = RANGES[kind]
            models.append({
                "key": key, "dataset": ed.card["dataset"], "model": ed.card["model"], "layered": ed.layered,
                "latent": {"z_fg": ed.model.cfg.latent.z_fg, "z_bg": ed.model.cfg.latent.z_bg} if ed.layered
                else {"z": ed.model.latent_dim},
                "can_upload": (ed.regressor_dir / "card.json").exists(),
                "attributes": [{"name": n, "group": group_of(n), "min": lo, "max": hi, "default": round(float(m), 3)}
                               for n, m in zip(ed.names, ed.generator.attribute_mean)]})
        return {"models": models, "not_listed": "the VAE has no attributes to move, so it is not listed",
                "max_upload_bytes": MAX_UPLOAD}

    # -- state -> tensors -------------------------------------------------------------------
    def attributes(self, ed: Editor, query: dict) -> np.ndarray:
        lo, hi = RANGES[ed.model.cfg.attribute_kind]
        y = ed.generator.attribute_mean.copy()
        if "y" in query:
            y = parse_floats(query["y"], "y")
            if len(y) != len(ed.names):
                raise BadRequest(HTTPStatus.BAD_REQUEST, f"y has {len(y)} values; {ed.card['model']} on "
                                                         f"{ed.card['dataset']} takes {len(ed.names)}")
        for key, value in query.items():
            if key.startswith("set."):
                name = key[4:]
                if name not in ed.names:
                    raise BadRequest(HTTPStatus.BAD_REQUEST, f"unknown attribute {name!r}")
                y[ed.names.index(name)] = parse_floats(value, key)[0]
        bad = [(n, float(v)) for n, v in zip(ed.names, y) if not lo <= v <= hi]
        if bad:
            raise BadRequest(HTTPStatus.UNPROCESSABLE_ENTITY, f"{bad[0][0]} = {bad[0][1]:g} is out of range "
                                                              f"[{lo:g}, {hi:g}]")
        return y

    def latent(self, ed: Editor, query: dict) -> np.ndarray:
        dim = ed.model.latent_dim
        if "z" in query:
            z = parse_floats(query["z"], "z")
            if len(z) != dim:
                raise BadRequest(HTTPStatus.BAD_REQUEST, f"z has {len(z)} values, the model's latent has {dim}")
            return z
        fseed, bseed = parse_seed(query, "fseed"), parse_seed(query, "bseed")
        if not ed.layered:
            return torch.randn(dim, generator=torch.Generator().manual_seed(fseed)).numpy()
        lat = ed.model.cfg.latent
        return np.concatenate([torch.randn(lat.z_fg, generator=torch.Generator().manual_seed(fseed)).numpy(),
                               torch.randn(lat.z_bg, generator=torch.Generator().manual_seed(bseed)).numpy()])

    def render(self, query: dict) -> bytes:
        ed = self.editor(one(query, "model"))
        y, z = self.attributes(ed, query), self.latent(ed, query)
        out = ed.decode(z[None], y[None])
        panels = [out[k][0] for k in ("image", "foreground", "background", "gate") if k in out]
        gap = np.full((64, 2, 3), 255, np.uint8)
        row = panels[0] if len(panels) == 1 else np.concatenate(sum(([p, gap] for p in panels), [])[:-1], axis=1)
        return png(row)

    def upload(self, query: dict, body: bytes) -> dict:
        ed = self.editor(one(query, "model"))
        if not (ed.regressor_dir / "card.json").exists():
            raise BadRequest(HTTPStatus.CONFLICT, f"no attribute regressor beside {ed.card['dataset']}'s models: "
                                                  f"cannot predict a photo's attributes")
        image = decode_image(body)
        y = ed.predict(image[None])[0]
        lo, hi = RANGES[ed.model.cfg.attribute_kind]
        y = np.clip(y, lo, hi)
        z = ed.infer(image[None], y[None])[0]
        return {"y": [round(float(v), 4) for v in y], "z": [round(float(v), 4) for v in z]}


def one(query: dict, key: str) -> str:
    if key not in query:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"missing parameter {key!r}")
    return query[key]


def parse_floats(text: str, what: str) -> np.ndarray:
    try:
        v = np.array([float(t) for t in text.split(",")], np.float32)
    except ValueError:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"{what} must be comma-separated numbers") from None
    if not np.isfinite(v).all():
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"{what} holds a NaN or infinite value")
    return v


def parse_seed(query: dict, key: str) -> int:
    try:
        seed = int(query.get(key, "0"))
    except ValueError:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"{key} must be an integer") from None
    if not 0 <= seed < 2 ** 31:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"{key} must lie in [0, 2^31)")
    return seed


def decode_image(body: bytes) -> np.ndarray:
    """An uploaded file -> uint8 (64, 64, 3), as ``attr2img edit`` reads images."""
    from PIL import Image, UnidentifiedImageError

    from attr2img.inference.api import fit_model_size

    if len(body) > MAX_UPLOAD:
        raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the upload is {len(body):,} bytes; "
                                                              f"the limit is {MAX_UPLOAD:,}")
    try:
        with Image.open(io.BytesIO(body)) as im:
            im.load()
            rgb = np.array(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise BadRequest(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "the upload is not an image Pillow can read "
                                                            "(or a truncated one)") from None
    return fit_model_size(rgb)


@lru_cache(maxsize=1)
def page() -> bytes:
    return resources.files("attr2img").joinpath("explorer.html").read_bytes()


def make_handler(explorer: Explorer):
    class Handler(BaseHTTPRequestHandler):
        server_version = "attr2img-explorer"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):      # quiet: one line per error only
            pass

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _drain(self, length: int) -> None:
            """Read and drop a refused body (up to a bound), so the client can read the answer."""
            left = min(length, 16 * MAX_UPLOAD)
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
            if length > 16 * MAX_UPLOAD:
                self.close_connection = True

        def _error(self, status: int, message: str) -> None:
            self._send(status, json.dumps({"error": message}).encode(), "application/json")

        def _query(self) -> tuple[str, dict]:
            parts = urlsplit(self.path)
            try:
                q = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query), max_num_fields=2000)
            except ValueError as exc:
                raise BadRequest(HTTPStatus.BAD_REQUEST, f"malformed query string: {exc}") from None
            return parts.path, {k: v[-1] for k, v in q.items()}

        def _dispatch(self, method: str) -> None:
            try:
                path, query = self._query()
                if method == "GET" and path in ("/", "/index.html"):
                    return self._send(200, page(), "text/html; charset=utf-8")
                if method == "GET" and path == "/api/models":
                    return self._send(200, json.dumps(explorer.catalog()).encode(), "application/json")
                if method == "GET" and path == "/api/render":
                    return self._send(200, explorer.render(query), "image/png")
                if method == "POST" and path == "/api/upload":
                    length = int(self.headers.get("Content-Length") or 0)
                    if length > MAX_UPLOAD:
                        self._drain(length)
                        raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                         f"the upload is {length:,} bytes; the limit is {MAX_UPLOAD:,}")
                    body = self.rfile.read(length)
                    return self._send(200, json.dumps(explorer.upload(query, body)).encode(), "application/json")
                raise BadRequest(HTTPStatus.NOT_FOUND, f"no such page: {path}")
            except BadRequest as exc:
                self._error(exc.status, str(exc))
            except Exception as exc:            # a bug, not the request: say so, keep serving
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}")

        def do_GET(self):
            self._dispatch("GET")

        def do_POST(self):
            self._dispatch("POST")

    return Handler


def make_server(models_dir, host: str = "127.0.0.1", port: int = 8765, device: str = "cpu") -> ThreadingHTTPServer:
    explorer = Explorer(models_dir, device)
    server = ThreadingHTTPServer((host, port), make_handler(explorer))
    server.daemon_threads = True
    return server


# -- the serve command --------------------------------------------------------------------------
PARAMS = False


def add_arguments(p) -> None:
    p.add_argument("--models", default="models", help="folder of trained models (models/<dataset>/<model>/)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")


def main(args, params: dict | None = None) -> None:
    from attr2img.errors import UsageError

    try:
        server = make_server(args.models, args.host, args.port, args.device)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    host, port = server.server_address[:2]
    print(f"attr2img explorer on http://{host}:{port}/ (models from {args.models}); Ctrl-C stops it", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
