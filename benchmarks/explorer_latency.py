"""Benchmark: the attribute explorer's latency (issue 15), against a running `attr2img serve`.

Starts the server as a person would (a separate process on 127.0.0.1), then measures:

(a) slider change -> new image: ``--requests`` (default 200) renders in a row, each with a new
    attribute value, for each model; median and 95th percentile (target: p95 <= 100 ms on 2
    CPU cores at the default width);
(b) photo upload -> editable: the upload request (regressor, posterior inference) for
    ``--uploads`` test photos; median and worst (target: <= 3 s);
(c) 8 concurrent clients, each moving its own slider: throughput and the 95th percentile.

Uses the default pipeline's models (run `dvc repro` first):
    python benchmarks/explorer_latency.py --models models --data data/processed/synth-faces
"""

from __future__ import annotations

import argparse
import io
import platform
import re
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def percentile(values, q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def fetch(url: str, body: bytes | None = None) -> float:
    t = time.perf_counter()
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    with urllib.request.urlopen(req, timeout=60) as r:
        r.read()
        assert r.status == 200
    return time.perf_counter() - t


def start_server(models: str):
    proc = subprocess.Popen([sys.executable, "-m", "attr2img", "serve", "--models", models, "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.search(r"http://[\d.]+:(\d+)/", line)
    if not m:
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{m.group(1)}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="models")
    ap.add_argument("--data", default="data/processed/synth-faces", help="processed dataset: the test photos")
    ap.add_argument("--dataset", default="synth-faces")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--uploads", type=int, default=10)
    args = ap.parse_args()

    from PIL import Image

    from attr2img.data.fmt import load_split

    proc, base = start_server(args.models)
    try:
        import torch
        print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
              f"torch {torch.__version__}")
        for model in ("cvae", "discvae"):
            key = f"{args.dataset}/{model}"
            fetch(f"{base}/api/render?model={key}")                        # loads the model
            values = np.linspace(-3, 3, args.requests)
            times = [fetch(f"{base}/api/render?model={key}&fseed=1&bseed=2&set.Smiling={v:.4f}") for v in values]
            print(f"(a) slider -> image, {key}: {args.requests} requests, median {percentile(times, 50):.1f} ms, "
                  f"p95 {percentile(times, 95):.1f} ms (target p95 <= 100 ms)")

        test = load_split(args.data, "test")
        times = []
        for i in range(args.uploads):
            buf = io.BytesIO()
            Image.fromarray(test.images[i]).save(buf, "PNG")
            times.append(fetch(f"{base}/api/upload?model={args.dataset}/discvae", buf.getvalue()))
        print(f"(b) upload -> editable ({args.dataset}/discvae): {args.uploads} photos, median "
              f"{percentile(times, 50) / 1000:.2f} s, worst {max(times):.2f} s (target <= 3 s)")

        def client(c: int) -> list[float]:
            return [fetch(f"{base}/api/render?model={args.dataset}/discvae&fseed={c}&bseed={c}&set.Male={v:.3f}")
                    for v in np.linspace(-2, 2, 25)]

        t0 = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            lat = [t for ts in pool.map(client, range(8)) for t in ts]
        wall = time.perf_counter() - t0
        print(f"(c) 8 concurrent clients ({args.dataset}/discvae): {len(lat)} requests in {wall:.2f} s = "
              f"{len(lat) / wall:.1f} images/s; median {percentile(lat, 50):.1f} ms, p95 {percentile(lat, 95):.1f} ms")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
