"""A host at the console watches an event's door: ticket sales, and admitted per gate and per minute changing live
over the socket while door staff scan tickets."""

import pytest
from aiohttp.test_utils import TestClient

from tests.browser.conftest import Browsers
from tests.browser.console_steps import accessible, screenshot, sign_in, with_two_factor
from tests.tickets.builders import door_staff, event_on_sale, paid_tickets, scan_body

pytestmark = pytest.mark.timeout(180)


async def test_a_host_watches_door_statistics_change_while_tickets_are_scanned(
    client: TestClient, browsers: Browsers, gateway_url: str
) -> None:
    sale = await event_on_sale(client)
    tickets = await paid_tickets(client, sale, 3)
    [(_, scanner_headers)] = await door_staff(client, sale)
    host, secret = await with_two_factor(client, "agent", sale.host)
    page = await sign_in(browsers, gateway_url, host.email or "", secret)

    await page.click("nav >> text=Events")
    await page.click("text=Sauti za Busara")
    await page.wait_for_selector("#live[data-state='live']")
    assert await page.inner_text("#admitted") == "0"
    assert "3 / 100" in await page.inner_text("table")
    await accessible(page)
    await screenshot(browsers, page, "01-door-before")

    async def scan(ticket: dict[str, str], gate: str) -> None:
        answer = await client.post(f"/v1/events/{sale.event_id}/scans", headers=scanner_headers, json=scan_body(ticket["secret"], gate=gate))
        assert answer.status == 200, await answer.text()

    await scan(tickets[0], "North")
    await page.wait_for_selector("#admitted:text-is('1')")
    assert await page.inner_text("[data-gate='North']") == "1"
    await scan(tickets[1], "South")
    await scan(tickets[2], "South")

    await page.wait_for_selector("#admitted:text-is('3')")
    assert await page.inner_text("[data-gate='South']") == "2"
    assert await page.inner_text("#inside") == "3"
    assert await page.inner_text(f"[data-ticket-type='{sale.ticket_type_id}']") == "3"
    assert await page.inner_text("#this-minute") == "3"
    assert (await page.get_attribute("#minutes", "aria-label") or "").endswith(", 3")
    await accessible(page)
    await screenshot(browsers, page, "02-door-live")


async def test_a_host_sees_only_their_own_events(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    theirs = await event_on_sale(client)
    host, secret = await with_two_factor(client, "agent")
    page = await sign_in(browsers, gateway_url, host.email or "", secret)

    await page.goto(f"{gateway_url}/console/events")
    assert "You host no events yet" in await page.inner_text("main")
    await screenshot(browsers, page, "no-events")
    answer = await page.goto(f"{gateway_url}/console/events/{theirs.event_id}")
    assert answer is not None and answer.status == 404
