"""A local HTTP server on 127.0.0.1 that plays a dataset host, and tar.gz archives built in memory."""

import io
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Host(ThreadingHTTPServer):
    """Serves ``files`` (path -> bytes) with HTTP Range support and scripted faults:
    ``faults[path]`` = "404", "corrupt", ("truncate", n) to cut the next transfer after n bytes,
    ("chunked", n) to send the next transfer chunked and break it off inside a chunk after n bytes,
    or "wrong-range" to answer the next ranged request with a 206 that starts at byte 0."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files, self.faults, self.log = {}, {}, []

    def url(self, path):
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        host, path = self.server, self.path
        host.log.append((path, self.headers.get("Range"), self.headers.get("User-Agent")))
        fault = host.faults.get(path)
        if path not in host.files or fault == "404":
            self.send_error(404)
            return
        data = host.files[path]
        if fault == "corrupt":
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
        if start >= len(data):
            self.send_error(416)
            return
        if fault == "wrong-range" and start:
            del host.faults[path]
            start, claimed = 0, 0
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {claimed}-{len(data) - 1}/{len(data)}")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if isinstance(fault, tuple) and fault[0] == "chunked":
            del host.faults[path]
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            body = data[start:]
            self.wfile.write(f"{len(body):x}\r\n".encode() + body[:fault[1]])   # the chunk never ends
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if isinstance(fault, tuple):                       # a transfer that breaks off once
            del host.faults[path]
            self.wfile.write(data[start:start + fault[1]])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data[start:])


@pytest.fixture
def host():
    server = Host()
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


def tgz(entries: dict) -> bytes:
    """A gzipped tar; values are bytes (files), None (folders) or ("symlink", target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(data, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, data[1]
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
