"""The gateway serves the scanner at /scan: its files only, under a CSP that allows nothing but itself."""

import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Page

from gateway.http_security import WEB_APP_CSP
from tests.browser.conftest import Browsers
from tests.conftest import REPO

pytestmark = pytest.mark.timeout(180)


async def test_scan_redirects_to_the_app_whose_files_carry_the_strict_policy(client: TestClient) -> None:
    redirected = await client.get("/scan", allow_redirects=False)
    page = await client.get("/scan/")
    script = await client.get("/scan/js/main.js", headers={"Accept-Encoding": "gzip"})
    again = await client.get("/scan/js/main.js", headers={"If-None-Match": script.headers["ETag"]})

    assert redirected.status == 308 and redirected.headers["Location"] == "/scan/"
    assert page.status == 200 and page.content_type == "text/html" and "Lango Scan" in await page.text()
    assert page.headers["Content-Security-Policy"] == WEB_APP_CSP and "'unsafe-inline'" not in WEB_APP_CSP
    assert script.content_type == "text/javascript" and script.headers["Content-Encoding"] == "gzip"
    assert again.status == 304


async def test_nothing_outside_the_apps_folder_is_served(client: TestClient) -> None:
    for path in ("/scan/../config.toml", "/scan/%2e%2e/config.toml", "/scan/.hidden", "/scan/nope.js", "/scan/js/"):
        answer = await client.get(path)
        assert answer.status == 404, path
        assert answer.content_type in ("application/problem+json", "text/plain"), path


async def test_the_scanner_opens_installable_and_keeps_its_files_for_offline(
    browsers: Browsers, gateway_url: str, tmp_path: Path
) -> None:
    # A profile of its own: Chromium offers no install in an incognito window.
    page = (await browsers.context(profile=tmp_path / "phone")).pages[0]
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    await page.goto(f"{gateway_url}/scan/")

    await page.wait_for_selector("#signin:not([hidden])")
    await page.evaluate("navigator.serviceWorker.ready")
    cached = await page.evaluate(
        "caches.open('lango-scan-v1').then((cache) => cache.keys()).then((keys) => keys.map((key) => new URL(key.url).pathname))"
    )
    manifest = await page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then((answer) => answer.json())")
    installability = await (await page.context.new_cdp_session(page)).send("Page.getInstallabilityErrors")

    await browsers.screenshot(page, "sign-in")
    assert {"/scan/", "/scan/js/main.js", "/scan/vendor/jsQR.js", "/scan/vendor/socket.io.esm.min.js"} <= set(cached)
    assert manifest["start_url"] == "/scan/" and manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}
    assert installability["installabilityErrors"] == []
    assert refused == []


async def test_the_scanner_opens_with_no_network_once_it_has_been_opened(browsers: Browsers, gateway_url: str) -> None:
    page = await browsers.page(f"{gateway_url}/scan/")
    await page.evaluate("navigator.serviceWorker.ready")
    await page.context.set_offline(True)

    await page.reload()

    await page.wait_for_selector("#signin:not([hidden])")
    assert await page.get_attribute("#network", "data-state") == "offline"
    await browsers.screenshot(page, "opened-offline")


async def test_the_scanner_speaks_swahili(browsers: Browsers, gateway_url: str) -> None:
    page: Page = await browsers.page(f"{gateway_url}/scan/")
    await page.click("#language")

    assert await page.text_content("#signin-submit") == "Ingia"
    assert await page.get_attribute("html", "lang") == "sw"
    await browsers.screenshot(page, "sign-in-swahili")


def test_the_service_worker_keeps_every_file_of_the_app() -> None:
    folder = REPO / "web" / "scan"
    kept = set(re.findall(r'"([^"]+)"', (folder / "sw.js").read_text().split("const SHELL = [", 1)[1].split("];", 1)[0]))
    files = {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}

    assert kept == (files - {"index.html", "sw.js"}) | {"./"}
