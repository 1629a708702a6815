"""Signing in to the console: password, then the two-factor code, a session only a cookie script cannot read refers
to, forms that refuse a missing form token, English and Swahili."""

import pytest
from aiohttp.test_utils import TestClient

from gateway.http_security import CONSOLE_CSP
from tests.browser.conftest import Browsers
from tests.browser.console_steps import accessible, focus_order, screenshot, sign_in, with_two_factor
from tests.factories import DEFAULT_PASSWORD, create_user

pytestmark = pytest.mark.timeout(180)


async def test_an_admin_signs_in_with_two_factor_and_out_again(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    admin, secret = await with_two_factor(client, "admin")
    page = await browsers.page(f"{gateway_url}/console")

    await page.wait_for_url(f"{gateway_url}/console/sign-in")
    await accessible(page)
    await screenshot(browsers, page, "01-sign-in")
    # By keyboard alone: the form opens focused on its first field, Tab moves on, Enter sends.
    await page.keyboard.type(admin.email or "")
    assert await focus_order(page, 2) == ["password", "sign-in-submit"]
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.type("not the password")
    await page.keyboard.press("Enter")
    assert "do not match" in await page.inner_text("#problem")
    await page.fill("#password", DEFAULT_PASSWORD)
    await page.click("#sign-in-submit")
    await page.wait_for_selector("#second-factor")
    await accessible(page)
    await screenshot(browsers, page, "02-second-factor")
    await page.fill("#code", "000000")
    await page.click("#second-factor-submit")
    assert "not right" in await page.inner_text("#problem")
    page = await sign_in(browsers, gateway_url, admin.email or "", secret)

    assert await page.inner_text("h1") == f"Welcome, {admin.email}"
    cookies = {cookie["name"]: cookie for cookie in await page.context.cookies()}
    session = cookies["lango_console"]
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/console"
    assert await page.evaluate("document.cookie") == ""
    await accessible(page)
    await screenshot(browsers, page, "03-home")

    await page.click("text=Sign out")
    await page.wait_for_url(f"{gateway_url}/console/sign-in")
    await page.goto(f"{gateway_url}/console")
    await page.wait_for_url(f"{gateway_url}/console/sign-in")


async def test_the_console_speaks_swahili(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    page = await browsers.page(f"{gateway_url}/console/sign-in")
    await page.click("button[lang=sw]")
    await page.wait_for_selector("html[lang=sw]")
    assert await page.inner_text("h1") == "Ingia"
    assert await page.inner_text("label[for=password]") == "Nenosiri"
    await accessible(page)
    await screenshot(browsers, page, "sign-in-swahili")


async def test_a_form_without_its_token_changes_nothing(client: TestClient) -> None:
    admin = await create_user(client.app, roles=("guest",))
    form = await client.get("/console/sign-in")
    forged = await client.post("/console/sign-in", data={"identifier": admin.email, "password": DEFAULT_PASSWORD, "csrf": "guess"})
    unauthenticated = await client.get("/console", allow_redirects=False)

    assert form.headers["Content-Security-Policy"] == CONSOLE_CSP and "'unsafe-inline'" not in CONSOLE_CSP
    assert form.headers["Cache-Control"] == "no-store"
    assert forged.status == 403 and "This form has expired" in await forged.text()
    assert unauthenticated.status == 303 and unauthenticated.headers["Location"] == "/console/sign-in"
