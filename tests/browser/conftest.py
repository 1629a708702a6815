"""Chromium through Playwright against a live gateway: installed when missing, headless, fake camera, screenshots.

Debian's `chromium` is used (never a browser Playwright would download): `apt-get install` brings it on a fresh
machine before the first browser test runs. Screenshots go to test-output/screenshots/<test module>/<test>/.
"""

import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright

from tests.conftest import REPO

SCREENSHOTS = REPO / "test-output" / "screenshots"
CHROMIUM_PACKAGES = ("chromium", "fonts-dejavu-core")
# A phone-sized window: the scanner is laid out for one.
PHONE = {"width": 412, "height": 860}
BROWSER_DIR = Path(__file__).parent


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def install_chromium() -> str:
    """Debian's Chromium, installed with apt-get when it is missing (the tests run as root, as CI does)."""
    found = chromium_path()
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise pytest.UsageError(f"Chromium is missing: run `sudo apt-get install -y {' '.join(CHROMIUM_PACKAGES)}`")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", *CHROMIUM_PACKAGES]
    if subprocess.run(install, env=environment, check=False).returncode != 0:
        # A fresh machine may have no package lists yet.
        subprocess.run(["apt-get", "update"], env=environment, check=True)
        subprocess.run(install, env=environment, check=True)
    found = chromium_path()
    if found is None:
        raise pytest.UsageError("apt-get installed chromium, but no chromium is on the PATH")
    return found


def pytest_collection_finish(session: pytest.Session) -> None:
    # Here rather than in a fixture: an install takes minutes, longer than any test's timeout.
    if any(Path(str(item.path)).is_relative_to(BROWSER_DIR) for item in session.items):
        install_chromium()


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as running:
        yield running


class Browsers:
    """Chromium windows for one test: each may have its own fake camera (a video file played as the webcam)
    and its own profile folder (so a second launch finds what the first stored, as a phone does)."""

    def __init__(self, playwright: Playwright, screenshots: Path) -> None:
        self.playwright = playwright
        self.screenshots = screenshots
        self.opened: list[Browser | BrowserContext] = []

    async def context(self, *, camera: Path | None = None, profile: Path | None = None) -> BrowserContext:
        args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required"]
        if camera is not None:
            args.append(f"--use-file-for-fake-video-capture={camera}")
        options = {"executable_path": install_chromium(), "headless": True, "args": args}
        context_options = {"viewport": PHONE, "device_scale_factor": 1, "is_mobile": False, "has_touch": True}
        if profile is not None:
            context = await self.playwright.chromium.launch_persistent_context(profile, **options, **context_options)
            self.opened.append(context)
            return context
        browser = await self.playwright.chromium.launch(**options)
        self.opened.append(browser)
        return await browser.new_context(**context_options)

    async def page(self, url: str, **launch: Path | None) -> Page:
        context = await self.context(**launch)
        page = context.pages[0] if context.pages else await context.new_page()
        await page.goto(url)
        return page

    async def screenshot(self, page: Page, name: str) -> Path:
        path = self.screenshots / f"{name}.png"
        await page.screenshot(path=path)
        return path

    async def close(self) -> None:
        for opened in reversed(self.opened):
            await opened.close()


@pytest.fixture
async def browsers(playwright: Playwright, request: pytest.FixtureRequest) -> AsyncIterator[Browsers]:
    module = request.node.module.__name__.rsplit(".", 1)[-1]
    folder = SCREENSHOTS / module / re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    opened = Browsers(playwright, folder)
    yield opened
    await opened.close()


@pytest.fixture
def gateway_url(client: TestClient) -> str:
    """The live gateway the test's `client` serves on a real port, as a browser reaches it."""
    return str(client.make_url("/")).rstrip("/")
