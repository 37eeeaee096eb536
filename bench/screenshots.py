"""Screenshots of the web chat at desktop and phone width, light and dark, with headless Chromium.

    python bench/screenshots.py [OUTDIR]      # default bench/screenshots/

Needs the server extra, Playwright and a Chromium (Debian: apt-get install chromium).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright
from processes import HOST, ROOT, serving

SIZES = {"desktop": dict(viewport={"width": 1280, "height": 900}),
         "phone": dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)}


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    with serving([], tries=100, stop_wait=15) as (_, port):
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
            for scheme in ("light", "dark"):
                for name, size in SIZES.items():
                    page = browser.new_context(color_scheme=scheme, **size).new_page()
                    page.goto(f"http://{HOST}:{port}/")
                    for n, question in enumerate(["やり方", "裏ももがつる", "<script>alert(1)</script>"]):
                        page.fill("#question", question)
                        page.keyboard.press("Enter")
                        page.locator(".msg.bot").nth(n).wait_for()
                    page.locator(".msg.bot").nth(1).locator("summary").click()
                    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
                    path = out / f"{name}-{scheme}.png"
                    page.screenshot(path=str(path))  # what the screen shows (the question box stays at its foot)
                    print(path)
                    page.evaluate("window.scrollTo(0, 0)")
                    path = out / f"{name}-{scheme}-top.png"
                    page.screenshot(path=str(path))
                    print(path)
            browser.close()


if __name__ == "__main__":
    main()
