"""Feeds that hang, are huge, are not iCalendar, or sit on a private address are refused: the reason is shown on the
feed, the nights it blocked before stay blocked, and nothing else changes."""

import time
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from aiohttp.test_utils import TestClient
from bson import ObjectId

from documents.calendar_feed import CalendarImport
from documents.night_claim import NightClaim
from documents.property import Property
from gateway.calendar_sync.fetch import FeedRefused, fetch_feed
from gateway.calendar_sync.sync import sync_import
from gateway.settings import ConfigError, Settings, load_settings
from gateway.state import SERVICES
from tests.calendars.conftest import FeedServer
from tests.calendars.feeds import airbnb_feed
from tests.conftest import REPO
from tests.factories import settings_with
from tests.properties.builders import published_listing, signed_in


def day(offset: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=offset)


async def synced_feed(client: TestClient, feed_server: FeedServer) -> tuple[CalendarImport, dict]:
    """A feed that has blocked three nights, and its listing."""
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    feed_server.feeds["airbnb"] = airbnb_feed((day(10), day(13)))
    added = await client.post(
        f"/v1/properties/{listing['id']}/calendar-imports", json={"url": feed_server.url("/airbnb.ics")}, headers=agent
    )
    stored = await CalendarImport.get(ObjectId((await added.json())["id"]))
    assert stored is not None
    synced = await sync_import(client.app[SERVICES], stored)
    assert synced.blocked_nights == 3
    return synced, listing


async def test_a_hanging_a_huge_a_broken_and_a_redirect_looping_feed_are_refused_without_harm(
    client: TestClient, feed_server: FeedServer
) -> None:
    feed, listing = await synced_feed(client, feed_server)
    feed_server.feeds["broken"] = "<html>Sign in to see this calendar</html>"
    refusals = {
        "/slow.ics": "no complete answer within 1 s",
        "/huge.ics": "the feed is larger than 8192 bytes",
        "/broken.ics": "not an iCalendar file",
        "/missing.ics": "the feed answered HTTP 404",
        "/loop": "more than 3 redirects",
    }
    for path, reason in refusals.items():
        await CalendarImport.get_pymongo_collection().update_one(
            {"_id": feed.id}, {"$set": {"url": feed_server.url(path)}}
        )
        moved = await CalendarImport.get(feed.id)
        assert moved is not None
        started = time.monotonic()

        refused = await sync_import(client.app[SERVICES], moved)

        assert refused.last_error is not None and refused.last_error.startswith(reason), (path, refused.last_error)
        assert refused.last_synced_at == feed.last_synced_at
        assert refused.blocked_nights == 3
        assert time.monotonic() - started < 5
        nights = await NightClaim.find({"property_id": ObjectId(listing["id"])}).sort("night").to_list()
        assert [claim.night for claim in nights] == [day(10), day(11), day(12)]


@pytest.fixture
def private_settings(settings: Settings) -> Settings:
    return settings_with(settings, "calendar", allow_private_addresses=False)


async def test_private_loopback_and_link_local_addresses_are_refused(
    private_settings: Settings, feed_server: FeedServer
) -> None:
    feed_server.feeds["airbnb"] = airbnb_feed((day(10), day(13)))
    settings = private_settings.calendar
    async with httpx.AsyncClient() as http:
        for url in (
            feed_server.url("/airbnb.ics"),
            feed_server.url("/moved/airbnb"),
            "http://localhost/feed.ics",
            "http://10.1.2.3/feed.ics",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/feed.ics",
            "http://[::ffff:127.0.0.1]/feed.ics",
            "http://100.64.0.1/feed.ics",
        ):
            with pytest.raises(FeedRefused, match="private, loopback or link-local"):
                await fetch_feed(http, url, settings, etag=None, last_modified=None)
    # Refused before any connection: the local server never heard a request.
    assert feed_server.requests == []


async def test_an_archived_listings_feed_is_no_longer_fetched(client: TestClient, feed_server: FeedServer) -> None:
    feed, listing = await synced_feed(client, feed_server)
    await Property.get_pymongo_collection().update_one(
        {"_id": ObjectId(listing["id"])}, {"$set": {"status": "archived"}}
    )
    requests_before = len(feed_server.requests)

    refused = await sync_import(client.app[SERVICES], feed)

    assert refused.last_error == "the listing is archived"
    assert len(feed_server.requests) == requests_before


def test_only_a_test_deployment_may_fetch_feeds_from_private_addresses() -> None:
    with pytest.raises(ConfigError, match="calendar.allow_private_addresses"):
        load_settings(REPO / "config.toml", environment="development", calendar={"allow_private_addresses": True})
