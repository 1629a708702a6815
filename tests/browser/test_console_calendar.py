"""An agent's month calendar at the console: nights held by a booking awaiting payment, nights blocked from the
page's form (all or nothing), freed again; the iCal feeds the listing imports, with their last sync, error and
conflicts."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient
from beanie import PydanticObjectId

from documents.calendar_feed import CalendarImport, ImportConflict
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
    # What the sync job leaves on a feed whose last fetch failed after an earlier sync flagged a held night.
    feed = CalendarImport(
        property_id=PydanticObjectId(listing["id"]), agent_id=agent_id, url="https://www.airbnb.com/calendar/ical/1.ics",
        name="Airbnb", last_synced_at=datetime(2026, 11, 30, 8, 0, tzinfo=UTC), blocked_nights=3,
        last_attempt_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC), last_error="the feed did not answer in time",
        conflicts=[ImportConflict(night=first + timedelta(days=4), booking_id=PydanticObjectId((await held.json())["id"]))],
    )  # fmt: skip
    await feed.insert()
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

    row = page.locator(f"#feeds tr[data-feed='{feed.id}']")
    assert "Airbnb" in await row.inner_text() and "2026-11-30 08:00 UTC" in await row.inner_text()
    assert await row.locator(".feed-conflicts").inner_text() == night
    assert "did not answer in time" in await row.locator(".feed-error").inner_text()
    await accessible(page)
    await row.scroll_into_view_if_needed()
    await screenshot(browsers, page, "02-feeds")
