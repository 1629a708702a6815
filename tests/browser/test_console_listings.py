"""Admins moderate listings at the console: a published listing taken out of search through the listing routes'
own domain call; its agent sees it back in draft and publishes it again."""

import pytest
from aiohttp.test_utils import TestClient

from documents.property import Property, PropertyStatus
from documents.user import User
from tests.browser.conftest import Browsers
from tests.browser.console_steps import accessible, screenshot, sign_in, with_two_factor
from tests.properties.builders import published_listing, signed_in

pytestmark = pytest.mark.timeout(180)


async def test_an_admin_takes_a_listing_out_of_search_and_its_agent_publishes_it_again(
    client: TestClient, browsers: Browsers, gateway_url: str
) -> None:
    agent_id, agent_headers = await signed_in(client, "agent")
    listing = await published_listing(client, agent_headers, title="Sea view cottage in Nyali")
    await published_listing(client, agent_headers, title="Garden flat in Kilimani")
    admin, secret = await with_two_factor(client, "admin")
    page = await sign_in(browsers, gateway_url, admin.email or "", secret)

    await page.click("nav >> text=Listings")
    await page.select_option("#status", "published")
    await page.click("#filter-listings")
    await accessible(page)
    await screenshot(browsers, page, "01-published")
    await page.click("button[aria-label='Take Sea view cottage in Nyali out of search']")

    assert "out of search" in await page.inner_text("#done")
    assert "Sea view cottage" not in await page.inner_text("#listings")
    stored = await Property.get(listing["id"])
    assert stored is not None and stored.status == PropertyStatus.DRAFT
    await screenshot(browsers, page, "02-taken-out")

    agent = await User.get(agent_id)
    assert agent is not None
    owner, owner_secret = await with_two_factor(client, "agent", agent)
    agent_page = await sign_in(browsers, gateway_url, owner.email or "", owner_secret)
    await agent_page.click("nav >> text=Listings")
    await agent_page.click("button[aria-label='Publish Sea view cottage in Nyali']")
    assert "in search" in await agent_page.inner_text("#done")
    stored = await Property.get(listing["id"])
    assert stored is not None and stored.status == PropertyStatus.PUBLISHED

