"""Regenerate docs/explorer.png: the explorer over the default run's models, in headless Chromium.

    python docs/explorer_screenshot.py            # after `dvc repro`; needs Debian's chromium
"""

from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from attr2img.explorer import make_server

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("no Chromium: apt-get install chromium")
    server = make_server(ROOT / "models", "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/#model=synth-faces/discvae&fseed=7&bseed=3"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1500, "height": 820})
        page.goto(url)
        page.wait_for_function("document.getElementById('image').dataset.state !== undefined")
        page.locator("input[aria-label='Smiling']").fill("2.5")
        page.locator("input[aria-label='Blond Hair']").fill("2")
        page.wait_for_function("document.getElementById('image').dataset.state.includes('2.5')")
        page.wait_for_timeout(300)
        page.screenshot(path=str(ROOT / "docs" / "explorer.png"))
        browser.close()
    server.shutdown()
    print("wrote docs/explorer.png")


if __name__ == "__main__":
    main()
