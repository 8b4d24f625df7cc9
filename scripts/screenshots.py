"""Screenshots of the running app (README images and visual checks), with Debian's Chromium.

Usage: .venv/bin/python scripts/screenshots.py USER PASSWORD OUT_DIR PATH [PATH …]

The app is at CLARESIA_URL (default http://127.0.0.1:8000), e.g. a demo started with WEB_PORT:
CLARESIA_URL=http://127.0.0.1:8200 .venv/bin/python scripts/screenshots.py …
"""

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = os.environ.get("CLARESIA_URL", "http://127.0.0.1:8000").rstrip("/")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def main(user: str, password: str, out: str, *paths: str) -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(f"{BASE}/admin/login/")
        page.fill("#id_username", user)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        for path in paths:
            page.goto(BASE + path)
            page.wait_for_load_state("networkidle")
            name = path.strip("/").replace("/", "_").replace("?", "_") or "home"
            page.screenshot(path=str(out_dir / f"{name}.png"), full_page=True)
            print(out_dir / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
