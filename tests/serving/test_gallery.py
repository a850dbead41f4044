"""The gallery at / in headless Chromium (Debian chromium + playwright): browse, generate,
play with control maps and box overlays."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from serving_helpers import TOKEN

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def test_gallery_browse_generate_play(service: Any, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    pw = pytest.importorskip("playwright.sync_api")
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(service.url + "/")
            page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            assert "classes covered" in page.inner_text("[data-testid=coverage-summary]")
            n_all = page.locator("#class-list li").count()
            assert n_all > 100
            # filter by a tag: fewer classes, each carrying it
            tag = page.locator("#tag-filter option").nth(1).get_attribute("value")
            page.select_option("#tag-filter", tag)
            assert 0 < page.locator("#class-list li").count() < n_all
            page.select_option("#tag-filter", "")
            # pick a class, generate a small clip, watch the job finish
            page.fill("#token", TOKEN)
            page.dispatch_event("#token", "change")
            page.click("#class-list li[data-class-id='12']")
            page.fill("#gen-seed", "4")
            page.select_option("#gen-size", "320x176")
            page.click("[data-testid=generate]")
            page.wait_for_selector("#job-status[data-state='succeeded']", timeout=180_000)
            page.wait_for_selector("#clip-list .clip", timeout=30_000)
            page.click("#clip-list .clip >> nth=0")
            page.wait_for_selector("[data-testid=player]:not([hidden])")
            page.wait_for_function(
                "document.getElementById('video').readyState >= 2", timeout=30_000
            )
            for kind in ("hdmap", "depth", "semantic"):
                page.wait_for_function(
                    f"document.getElementById('ctl-{kind}').readyState >= 1", timeout=30_000
                )
            # box overlays drawn from the OpenLABEL labels, and toggled off
            page.wait_for_function(
                "Number(document.getElementById('overlay').dataset.boxes) > 0", timeout=30_000
            )
            shot = tmp_path / "gallery.png"
            page.screenshot(path=str(shot))
            if os.environ.get("WMGEN_GALLERY_SHOT"):
                shutil.copy(shot, os.environ["WMGEN_GALLERY_SHOT"])
            page.uncheck("[data-testid=boxes]")
            page.wait_for_function("document.getElementById('overlay').dataset.boxes === '0'")
            assert not errors, errors
        finally:
            browser.close()
