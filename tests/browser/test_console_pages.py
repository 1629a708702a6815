"""Every admin page of the console opens from the navigation by keyboard, passes axe-core in English and Kiswahili,
and is saved as a screenshot; empty lists say so rather than showing nothing."""

import pytest
from aiohttp.test_utils import TestClient

from tests.browser.conftest import Browsers
from tests.browser.console_steps import accessible, screenshot, sign_in, with_two_factor

pytestmark = pytest.mark.timeout(240)

ADMIN_PAGES = {
    "Users": "Newest accounts",
    "Payments": "No payments yet.",
    "Broadcasts": "No broadcasts yet.",
    "API keys": "No integration keys yet.",
    # The test's gateway runs no worker: the security alerts of its two-factor enrolment wait.
    "Job queue": "No worker is taking jobs",
    "Audit log": "login_succeeded",
    "Ledger": "No account has a balance yet.",
    "Payouts": "No payouts match.",
    "Paybill": "No unmatched Paybill payments",
    "Earnings": "No earnings yet",
    "Reconciliation": "No reconciliation report yet.",
    "Listings": "No listings here.",
    "Bookings": "No bookings yet.",
    "Events": "You host no events yet.",
}


async def test_every_admin_page_reads_well_in_both_languages(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    admin, secret = await with_two_factor(client, "admin")
    page = await sign_in(browsers, gateway_url, admin.email or "", secret)
    await screenshot(browsers, page, "home")

    for number, (link, shows) in enumerate(ADMIN_PAGES.items(), start=1):
        await page.focus(f"nav >> text={link}")
        await page.keyboard.press("Enter")
        await page.wait_for_selector(f"nav a[aria-current=page]:text-is('{link}')")
        assert shows in await page.inner_text("main"), link
        await accessible(page)
        await screenshot(browsers, page, f"{number:02d}-{link.lower().replace(' ', '-')}")

    await page.click("button[lang=sw]")
    await page.wait_for_selector("html[lang=sw]")
    assert "Hakuna matukio" in await page.inner_text("main") or "Bado huandai" in await page.inner_text("main")
    for link in ("Watumiaji", "Malipo", "Foleni ya kazi"):
        await page.click(f"nav >> text={link}")
        await page.wait_for_selector(f"nav a[aria-current=page]:text-is('{link}')")
        await accessible(page)
        await screenshot(browsers, page, f"sw-{link.lower().replace(' ', '-')}")


async def test_an_admin_sends_a_broadcast_and_sees_it_listed(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    admin, secret = await with_two_factor(client, "admin")
    page = await sign_in(browsers, gateway_url, admin.email or "", secret)
    await page.click("nav >> text=Broadcasts")

    await page.select_option("#kind", "role")
    await page.fill("#value", "nobody-role")
    await page.fill("#title", "Gate change")
    await page.fill("#message", "Doors open at the North gate from 18:00.")
    await page.click("#send-broadcast")
    assert await page.locator("#problem").count() == 1
    assert await page.input_value("#title") == "Gate change"
    await page.fill("#value", "agent")
    await page.click("#send-broadcast")

    assert "Broadcast started" in await page.inner_text("#done")
    assert "Gate change" in await page.inner_text("#broadcasts") and "A role: agent" in await page.inner_text("#broadcasts")
    await accessible(page)
    await screenshot(browsers, page, "broadcast-started")
