"""Importing Airbnb and Booking.com calendars: their events block nights here (so no one can hold them), a conditional
fetch changes nothing, a dropped event frees its nights, and a night a booking already holds is flagged, never lost."""

import asyncio
from datetime import UTC, date, datetime, timedelta

from aiohttp.test_utils import TestClient
from bson import ObjectId

from documents.calendar_feed import CalendarImport
from documents.night_claim import NightClaim
from documents.notification import Notification
from documents.property import Property
from gateway.calendar_sync.sync import sync_due_imports, sync_import, sync_new_calendar_import
from gateway.state import SERVICES
from tests.calendars.conftest import FeedServer
from tests.calendars.feeds import airbnb_feed, booking_com_feed
from tests.properties.builders import problem_type, published_listing, signed_in


def day(offset: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=offset)


def nights(start: date, end: date) -> list[str]:
    return [str(start + timedelta(days=n)) for n in range((end - start).days)]


async def blocked_nights(client: TestClient, listing: dict, headers: dict[str, str]) -> list[str]:
    path = f"/v1/properties/{listing['id']}/calendar?start={day(0)}&end={day(120)}"
    calendar = await (await client.get(path, headers=headers)).json()
    return [taken["night"] for taken in calendar["taken"] if taken["kind"] == "blocked"]


async def add_feed(client: TestClient, listing: dict, agent: dict[str, str], url: str, name: str) -> dict:
    response = await client.post(
        f"/v1/properties/{listing['id']}/calendar-imports", json={"url": url, "name": name}, headers=agent
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def sync(client: TestClient, feed: dict) -> dict:
    stored = await CalendarImport.get(ObjectId(feed["id"]))
    assert stored is not None
    return (await sync_import(client.app[SERVICES], stored)).model_dump(mode="json")


async def test_airbnb_and_booking_com_feeds_block_their_nights_and_follow_changes(
    client: TestClient, feed_server: FeedServer
) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    feed_server.feeds["airbnb"] = airbnb_feed((day(10), day(13)), (day(20), day(22)))
    feed_server.feeds["booking"] = booking_com_feed((day(30), day(32)), cancelled=(day(40), day(45)))
    airbnb = await add_feed(client, listing, agent, feed_server.url("/airbnb.ics"), "Airbnb")
    booking = await add_feed(client, listing, agent, feed_server.url("/moved/booking"), "Booking.com")

    assert (await sync(client, airbnb))["blocked_nights"] == 5
    synced = await sync(client, booking)

    assert synced["last_error"] is None and synced["last_synced_at"] is not None and synced["blocked_nights"] == 2
    expected = nights(day(10), day(13)) + nights(day(20), day(22)) + nights(day(30), day(32))
    assert await blocked_nights(client, listing, agent) == expected
    _, guest = await signed_in(client)
    stay = {"property_id": listing["id"], "check_in": str(day(11)), "check_out": str(day(14)), "guests": 1}
    refused = await client.post("/v1/bookings", json=stay, headers=guest)
    assert (refused.status, await problem_type(refused)) == (409, "dates-unavailable")
    searched = await (await client.get(f"/v1/properties?check_in={day(11)}&check_out={day(12)}", headers=guest)).json()
    assert searched["items"] == []

    # Unchanged: the second fetch is conditional and the server's 304 leaves everything as it was.
    requests_before = len(feed_server.requests)
    assert (await sync(client, airbnb))["blocked_nights"] == 5
    stored = await CalendarImport.get(ObjectId(airbnb["id"]))
    assert stored is not None and stored.etag
    assert feed_server.requests[requests_before:] == [("airbnb", stored.etag)]

    # Airbnb's second stay was cancelled there: its nights are free here again, the host's own block stays.
    assert (await client.post(f"/v1/properties/{listing['id']}/blocks", json={"start": str(day(50)), "end": str(day(51))},
                              headers=agent)).status == 201  # fmt: skip
    feed_server.feeds["airbnb"] = airbnb_feed((day(10), day(13)))
    assert (await sync(client, airbnb))["blocked_nights"] == 3
    assert await blocked_nights(client, listing, agent) == nights(day(10), day(13)) + nights(day(30), day(32)) + [
        str(day(50))
    ]
    listed = await (await client.get(f"/v1/properties/{listing['id']}/calendar-imports", headers=agent)).json()
    assert [(item["name"], item["blocked_nights"], item["last_error"]) for item in listed["items"]] == [
        ("Airbnb", 3, None),
        ("Booking.com", 2, None),
    ]

    removed = await client.delete(f"/v1/properties/{listing['id']}/calendar-imports/{booking['id']}", headers=agent)
    assert (await removed.json())["released_nights"] == 2
    assert await blocked_nights(client, listing, agent) == nights(day(10), day(13)) + [str(day(50))]


async def test_a_feed_overlapping_a_booking_keeps_the_booking_and_flags_the_host_and_admins(
    client: TestClient, feed_server: FeedServer
) -> None:
    agent_id, agent = await signed_in(client, "agent")
    admin_id, _ = await signed_in(client, "admin")
    listing = await published_listing(client, agent)
    _, guest = await signed_in(client)
    stay = {"property_id": listing["id"], "check_in": str(day(12)), "check_out": str(day(15)), "guests": 1}
    booking = await (await client.post("/v1/bookings", json=stay, headers=guest)).json()
    feed_server.feeds["airbnb"] = airbnb_feed((day(10), day(14)))
    feed = await add_feed(client, listing, agent, feed_server.url("/airbnb.ics"), "Airbnb")

    synced = await sync(client, feed)

    # The two free nights are blocked; the two the booking holds stay the booking's, listed as conflicts.
    assert synced["blocked_nights"] == 2
    assert [(conflict["night"], conflict["booking_id"]) for conflict in synced["conflicts"]] == [
        (str(day(12)), booking["id"]),
        (str(day(13)), booking["id"]),
    ]
    assert await blocked_nights(client, listing, agent) == nights(day(10), day(12))
    flagged = await Notification.find({"kind": "calendar_conflict"}).to_list()
    assert sorted(notice.user_id for notice in flagged) == sorted([agent_id, admin_id])
    assert all(notice.data["booking_id"] == booking["id"] for notice in flagged)
    # Flagged once: syncing again (the feed changed elsewhere) tells no one twice.
    feed_server.feeds["airbnb"] = airbnb_feed((day(10), day(14)), (day(60), day(61)))
    assert len((await sync(client, feed))["conflicts"]) == 2
    assert await Notification.find({"kind": "calendar_conflict"}).count() == 2

    # Once the booking is cancelled, the feeds that flagged it sync at once and block its nights.
    feed_server.feeds["airbnb"] = airbnb_feed((day(10), day(14)))
    assert (await client.post(f"/v1/bookings/{booking['id']}/cancel", headers=guest)).status == 200
    services = client.app[SERVICES]
    queued = await services.queue.job(f"calendar-resync:{feed['id']}:{booking['id']}")
    assert queued is not None and queued.kwargs == {"import_id": feed["id"]}
    assert await sync_new_calendar_import({"services": services}, **queued.kwargs)
    resynced = await CalendarImport.get(ObjectId(feed["id"]))
    assert resynced is not None and (resynced.blocked_nights, resynced.conflicts) == (4, [])
    assert await blocked_nights(client, listing, agent) == nights(day(10), day(14))


async def test_the_periodic_job_syncs_feeds_that_are_due_and_only_those(
    client: TestClient, feed_server: FeedServer
) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    feed_server.feeds["booking"] = booking_com_feed((day(5), day(7)))
    await add_feed(client, listing, agent, feed_server.url("/booking.ics"), "Booking.com")
    services = client.app[SERVICES]

    assert await sync_due_imports(services) == 1
    assert await sync_due_imports(services) == 0
    assert await blocked_nights(client, listing, agent) == nights(day(5), day(7))
    interval = timedelta(seconds=services.settings.calendar.sync_interval_s + 1)
    await CalendarImport.get_pymongo_collection().update_many(
        {}, {"$set": {"last_attempt_at": datetime.now(UTC) - interval}}
    )
    assert await sync_due_imports(services) == 1


async def test_adding_feeds_is_validated_capped_and_for_the_listings_agent_only(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    path = f"/v1/properties/{listing['id']}/calendar-imports"
    for url in ("ftp://example.com/a.ics", "https://user:pw@example.com/a.ics", "https:///a.ics", "not a url"):
        refused = await client.post(path, json={"url": url}, headers=agent)
        assert refused.status == 422, url
    cap = client.app[SERVICES].settings.calendar.max_imports_per_listing
    for n in range(cap):
        assert (await client.post(path, json={"url": f"https://example.com/{n}.ics"}, headers=agent)).status == 201
    again = await client.post(path, json={"url": "https://example.com/0.ics"}, headers=agent)
    assert again.status == 409
    over = await client.post(path, json={"url": "https://example.com/over.ics"}, headers=agent)
    assert (over.status, await problem_type(over)) == (409, "calendar-import-limit")
    assert (await Property.get(ObjectId(listing["id"]))).calendar_imports == cap  # type: ignore[union-attr]
    _, other_agent = await signed_in(client, "agent")
    assert (await client.post(path, json={"url": "https://example.com/x.ics"}, headers=other_agent)).status == 403
    assert (await client.get(path, headers=other_agent)).status == 403
    _, guest = await signed_in(client)
    assert (await client.get(path, headers=guest)).status == 403


async def test_syncs_racing_holds_never_take_a_night_twice_and_flag_every_booked_night(
    client: TestClient, feed_server: FeedServer
) -> None:
    agent_id, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    feed_server.feeds["airbnb"] = airbnb_feed((day(10), day(20)))
    feed = await add_feed(client, listing, agent, feed_server.url("/airbnb.ics"), "Airbnb")
    stored = await CalendarImport.get(ObjectId(feed["id"]))
    assert stored is not None
    guests = [await signed_in(client) for _ in range(8)]
    stays = [
        {"property_id": listing["id"], "check_in": str(day(8 + 2 * n)), "check_out": str(day(10 + 2 * n)), "guests": 1}
        for n in range(len(guests))
    ]

    answers = await asyncio.gather(
        *(
            client.post("/v1/bookings", json=stay, headers=headers)
            for stay, (_, headers) in zip(stays, guests, strict=True)
        ),
        sync_import(client.app[SERVICES], stored),
    )

    held = [await answer.json() for answer in answers[:-1] if answer.status == 201]
    assert all(answer.status in (201, 409) for answer in answers[:-1])
    synced = await sync_import(client.app[SERVICES], (await CalendarImport.get(stored.id)))  # type: ignore[arg-type]
    claims = await NightClaim.find({"property_id": ObjectId(listing["id"])}).to_list()
    assert len({claim.night for claim in claims}) == len(claims)
    booked = {claim.night: str(claim.booking_id) for claim in claims if claim.kind == "booking"}
    for booking in held:
        check_in, check_out = date.fromisoformat(booking["check_in"]), date.fromisoformat(booking["check_out"])
        assert all(
            booked[night] == booking["id"]
            for night in (check_in + timedelta(days=n) for n in range((check_out - check_in).days))
        )
    imported = {claim.night for claim in claims if claim.kind == "imported"}
    feed_nights = {day(10) + timedelta(days=n) for n in range(10)}
    assert imported == feed_nights - set(booked)
    assert {(conflict.night, str(conflict.booking_id)) for conflict in synced.conflicts} == {
        (night, booking_id) for night, booking_id in booked.items() if night in feed_nights
    }
