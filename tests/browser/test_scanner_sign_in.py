"""Signing in to the door scanner (two-factor where the account has it) and the typed-code fallback."""

import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Page

from gateway.state import SERVICES
from tests.accounts.helpers import next_totp, turn_on_two_factor
from tests.browser.conftest import Browsers
from tests.browser.scanner_steps import open_door, sign_in, typed
from tests.factories import access_token_for, auth_header, create_user
from tests.tickets.builders import OnSale, door_staff, event_on_sale, paid_tickets

pytestmark = pytest.mark.timeout(180)


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
    await page.click("#language")
    swahili = await typed(page, ticket["secret"])
    assert swahili.startswith("amber: Imeshatumika") and "Lango Main gate, saa" in swahili
    await browsers.screenshot(page, "02-typed-codes")


async def test_an_account_that_keeps_no_door_is_turned_away(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    guest = await create_user(client.app)
    page = await browsers.page(f"{gateway_url}/scan/")

    await sign_in(page, guest.email or "")

    message = await page.wait_for_selector("#message:not([hidden])")
    assert "not door staff" in await message.inner_text()
    assert await page.is_visible("#signin")
    await browsers.screenshot(page, "turned-away")


async def test_a_scanner_no_host_has_added_is_told_to_ask_for_it(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    scanner = await create_user(client.app, roles=("scanner",))
    page = await browsers.page(f"{gateway_url}/scan/")

    await sign_in(page, scanner.email or "")

    message = await page.wait_for_selector("#message:not([hidden])")
    assert "No events to scan" in await message.inner_text()
    assert await page.eval_on_selector_all("#event option", "options => options.length") == 0


async def test_door_staff_whose_role_is_taken_away_are_signed_out_of_the_scanner(
    client: TestClient, browsers: Browsers, gateway_url: str
) -> None:
    sale = await event_on_sale(client)
    [(scanner, _)] = await door_staff(client, sale)
    admin = await create_user(client.app, roles=("admin",))
    page = await browsers.page(f"{gateway_url}/scan/")
    await open_door(page, scanner.email or "")
    await page.wait_for_selector("#network[data-state='online']")

    removed = await client.delete(f"/v1/admin/users/{scanner.id}/roles/scanner", headers=auth_header(access_token_for(client.app, admin)))

    assert removed.status == 200
    await page.wait_for_selector("#signin:not([hidden])")
    assert "session_revoked" in await page.inner_text("#message")


async def ready_door(client: TestClient, browsers: Browsers, gateway_url: str) -> tuple[Page, OnSale, dict[str, Any]]:
    """A scanner open at an event's door, ready to check tickets offline, and one ticket of the event."""
    sale = await event_on_sale(client)
    [ticket] = await paid_tickets(client, sale, 1)
    [(scanner, _)] = await door_staff(client, sale)
    page = await browsers.page(f"{gateway_url}/scan/")
    await open_door(page, scanner.email or "")
    await page.wait_for_selector("#kit[data-ready='true']")
    return page, sale, ticket


async def test_scans_a_server_refuses_stay_queued_and_the_staff_see_why(
    client: TestClient, browsers: Browsers, gateway_url: str
) -> None:
    page, sale, ticket = await ready_door(client, browsers, gateway_url)
    await page.context.set_offline(True)
    # A phone whose clock runs an hour ahead.
    await page.clock.set_system_time(time.time() + 3600)

    assert (await typed(page, ticket["secret"])).startswith("green: Valid")
    await page.context.set_offline(False)

    message = await page.wait_for_selector("#message:not([hidden])")
    assert "clock" in await message.inner_text()
    assert await page.get_attribute("#queued", "data-count") == "1"
    await browsers.screenshot(page, "refused-batch")


async def test_the_scanner_refreshes_its_token_when_it_runs_out(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    page, sale, ticket = await ready_door(client, browsers, gateway_url)
    session_before = await page.evaluate("JSON.parse(localStorage.getItem('lango.scan.session'))")
    await page.context.set_offline(True)
    assert (await typed(page, ticket["secret"])).startswith("green: Valid")

    # Back online after the access token's lifetime: the queued scan goes up with a refreshed token.
    await page.clock.set_system_time(time.time() + client.app[SERVICES].settings.auth.access_token_ttl_s + 1)
    await page.context.set_offline(False)

    await page.wait_for_selector("#queued[data-count='0']", timeout=15_000)
    session_after = await page.evaluate("JSON.parse(localStorage.getItem('lango.scan.session'))")
    assert session_after["refresh"] != session_before["refresh"]
    stats = await (await client.get(f"/v1/events/{sale.event_id}/stats", headers=sale.host_headers)).json()
    assert stats["admitted"] == 1
