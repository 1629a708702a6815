"""An agent's month calendar at the console: nights held by a booking awaiting payment, nights blocked from the
page's form (all or nothing), freed again."""

import uuid
from datetime import date, timedelta

import pytest
from aiohttp.test_utils import TestClient

from documents.user import User
from tests.browser.conftest import Browsers
from tests.browser.console_steps import accessible, screenshot, sign_in, with_two_factor
from tests.properties.builders import published_listing, signed_in

pytestmark = pytest.mark.timeout(180)


async def test_an_agent_sees_holds_and_blocks_nights_on_the_month_calendar(
    client: TestClient, browsers: Browsers, gateway_url: str
) -> None:
    agent_id, agent_headers = await signed_in(client, "agent")
    listing = await published_listing(client, agent_headers)
    _, guest_headers = await signed_in(client)
    today = date.today()
    first = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    held = await client.post("/v1/bookings", headers={**guest_headers, "Idempotency-Key": uuid.uuid4().hex}, json={
        "property_id": listing["id"], "check_in": (first + timedelta(days=4)).isoformat(),
        "check_out": (first + timedelta(days=6)).isoformat(), "guests": 2,
    })  # fmt: skip
    assert held.status == 201, await held.text()
    agent = await User.get(agent_id)
    assert agent is not None
    agent, secret = await with_two_factor(client, "agent", agent)
    page = await sign_in(browsers, gateway_url, agent.email or "", secret)

    await page.click("nav >> text=Listings")
    await page.click(f"a[href='/console/listings/{listing['id']}/calendar']")
    await page.click("#next-month")

    night = (first + timedelta(days=4)).isoformat()
    assert await page.get_attribute(f"td[data-night='{night}']", "data-state") == "held"
    await page.fill("#start", (first + timedelta(days=9)).isoformat())
    await page.fill("#end", (first + timedelta(days=12)).isoformat())
    await page.click("#block-nights")
    states = [await page.get_attribute(f"td[data-night='{(first + timedelta(days=day)).isoformat()}']", "data-state") for day in range(8, 13)]
    assert states == ["free", "blocked", "blocked", "blocked", "free"]
    await accessible(page)
    await screenshot(browsers, page, "01-month")

    await page.fill("#start", (first + timedelta(days=3)).isoformat())
    await page.fill("#end", (first + timedelta(days=5)).isoformat())
    await page.click("#block-nights")
    assert await page.locator("#problem").count() == 1
    assert await page.get_attribute(f"td[data-night='{(first + timedelta(days=3)).isoformat()}']", "data-state") == "free"

    await page.fill("#start", (first + timedelta(days=9)).isoformat())
    await page.fill("#end", (first + timedelta(days=11)).isoformat())
    await page.click("#free-nights")
    states = [await page.get_attribute(f"td[data-night='{(first + timedelta(days=day)).isoformat()}']", "data-state") for day in range(9, 12)]
    assert states == ["free", "free", "blocked"]
