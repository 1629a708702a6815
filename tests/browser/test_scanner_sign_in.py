"""Signing in to the door scanner (two-factor where the account has it) and the typed-code fallback."""

import time

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Page

from tests.accounts.helpers import next_totp, turn_on_two_factor
from tests.browser.conftest import Browsers
from tests.factories import DEFAULT_PASSWORD, access_token_for, auth_header, create_user
from tests.tickets.builders import door_staff, event_on_sale, paid_tickets

pytestmark = pytest.mark.timeout(180)


async def sign_in(page: Page, email: str) -> None:
    await page.fill("#identifier", email)
    await page.fill("#password", DEFAULT_PASSWORD)
    await page.click("#signin-submit")


async def open_door(browsers: Browsers, gateway_url: str, email: str) -> Page:
    """The scanner signed in, on the first event the account keeps the door of, at gate North."""
    page = await browsers.page(f"{gateway_url}/scan/")
    await sign_in(page, email)
    await page.wait_for_selector("#setup:not([hidden])")
    await page.fill("#gate", "North")
    await page.click("#setup-submit")
    return page


async def typed(page: Page, code: str) -> str:
    """The answer to a ticket code typed in by hand, once it is on screen."""
    await page.fill("#manual-code", code)
    await page.click("#manual-check")
    shown = await page.wait_for_selector("#answer:not([hidden])")
    text = await shown.inner_text()
    await page.click("#answer")
    return f"{await shown.get_attribute('class')}: {text}"


async def test_door_staff_with_two_factor_sign_in_and_check_typed_codes(
    client: TestClient, browsers: Browsers, gateway_url: str
) -> None:
    sale, other = await event_on_sale(client), await event_on_sale(client)
    [ticket] = await paid_tickets(client, sale, 1)
    [foreign] = await paid_tickets(client, other, 1)
    [(scanner, _)] = await door_staff(client, sale)
    secret = await turn_on_two_factor(client, scanner.email or "")
    context = await browsers.context()
    # Each answer's vibration pattern and tones, as the phone would play them.
    await context.add_init_script("""
        window.felt = [];
        navigator.vibrate = (pattern) => { window.felt.push(pattern); return true; };
        const start = OscillatorNode.prototype.start;
        OscillatorNode.prototype.start = function (...at) { window.felt.push(this.frequency.value); return start.apply(this, at); };
    """)
    page = await context.new_page()
    await page.goto(f"{gateway_url}/scan/")

    await sign_in(page, scanner.email or "")
    await page.wait_for_selector("#second-factor:not([hidden])")
    await browsers.screenshot(page, "01-second-factor")
    await page.fill("#otp", next_totp(secret))
    await page.click("#second-factor-submit")
    await page.wait_for_selector("#setup:not([hidden])")
    await page.fill("#gate", "Main gate")
    await page.click("#setup-submit")
    await page.wait_for_selector("#network[data-state='online']")

    assert (await typed(page, ticket["secret"])).startswith("green: Valid")
    assert (await typed(page, foreign["secret"])).startswith("red: Wrong event")
    assert (await typed(page, "not a ticket")).startswith("red: Invalid ticket")
    assert await page.evaluate("window.felt") == [880, [80], 220, [400], 220, [400]]
    await browsers.screenshot(page, "02-typed-codes")


async def test_an_account_that_keeps_no_door_is_turned_away(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    guest = await create_user(client.app)
    page = await browsers.page(f"{gateway_url}/scan/")

    await sign_in(page, guest.email or "")

    message = await page.wait_for_selector("#message:not([hidden])")
    assert "not door staff" in await message.inner_text()
    assert await page.is_visible("#signin")
    await browsers.screenshot(page, "turned-away")


async def test_door_staff_whose_role_is_taken_away_are_signed_out_of_the_scanner(
    client: TestClient, browsers: Browsers, gateway_url: str
) -> None:
    sale = await event_on_sale(client)
    [(scanner, _)] = await door_staff(client, sale)
    admin = await create_user(client.app, roles=("admin",))
    page = await open_door(browsers, gateway_url, scanner.email or "")
    await page.wait_for_selector("#network[data-state='online']")

    removed = await client.delete(f"/v1/admin/users/{scanner.id}/roles/scanner", headers=auth_header(access_token_for(client.app, admin)))

    assert removed.status == 200
    await page.wait_for_selector("#signin:not([hidden])")
    assert "session_revoked" in await page.inner_text("#message")


async def test_scans_a_server_refuses_stay_queued_and_the_staff_see_why(
    client: TestClient, browsers: Browsers, gateway_url: str
) -> None:
    sale = await event_on_sale(client)
    [ticket] = await paid_tickets(client, sale, 1)
    [(scanner, _)] = await door_staff(client, sale)
    page = await open_door(browsers, gateway_url, scanner.email or "")
    await page.wait_for_selector("#kit[data-ready='true']")
    await page.context.set_offline(True)
    # A phone whose clock runs an hour ahead.
    await page.clock.set_system_time(time.time() + 3600)

    assert (await typed(page, ticket["secret"])).startswith("green: Valid")
    await page.context.set_offline(False)

    message = await page.wait_for_selector("#message:not([hidden])")
    assert "clock" in await message.inner_text()
    assert await page.get_attribute("#queued", "data-count") == "1"
    await browsers.screenshot(page, "refused-batch")
