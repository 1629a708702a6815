"""A listing's export feed: secret and rotatable, parsed by a real iCal parser, and imported into another listing it
gives the same nights."""

from datetime import UTC, date, datetime, timedelta

import icalendar
from aiohttp.test_utils import TestClient
from bson import ObjectId

from documents.calendar_feed import CalendarImport
from gateway.calendar_sync.sync import sync_import
from gateway.state import SERVICES
from tests.properties.builders import published_listing, signed_in


def day(offset: int) -> date:
    return datetime.now(UTC).date() + timedelta(days=offset)


def local_path(url: str) -> str:
    return "/v1/calendars/" + url.split("/v1/calendars/", 1)[1]


async def taken(client: TestClient, listing: dict, headers: dict[str, str]) -> list[str]:
    path = f"/v1/properties/{listing['id']}/calendar?start={day(0)}&end={day(200)}"
    return [night["night"] for night in (await (await client.get(path, headers=headers)).json())["taken"]]


async def test_an_export_imported_into_another_listing_gives_the_same_nights(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    source = await published_listing(client, agent, title="Source flat")
    target = await published_listing(client, agent, title="Target flat")
    _, guest = await signed_in(client)
    for check_in, nights in ((day(3), 2), (day(5), 3), (day(30), 1)):
        stay = {
            "property_id": source["id"],
            "check_in": str(check_in),
            "check_out": str(check_in + timedelta(days=nights)),
            "guests": 1,
        }
        _, another_guest = await signed_in(client)
        assert (await client.post("/v1/bookings", json=stay, headers=another_guest)).status == 201
    block = {"start": str(day(8)), "end": str(day(12))}
    assert (await client.post(f"/v1/properties/{source['id']}/blocks", json=block, headers=agent)).status == 201
    export = await (await client.get(f"/v1/properties/{source['id']}/calendar-export", headers=agent)).json()

    served = await client.get(local_path(export["url"]))
    assert served.status == 200 and served.content_type == "text/calendar"
    calendar = icalendar.Calendar.from_ical(await served.read())
    events = sorted(
        (event.decoded("DTSTART"), event.decoded("DTEND"), str(event["SUMMARY"])) for event in calendar.walk("VEVENT")
    )
    # Adjacent stays stay separate events; the block right after them is its own.
    assert events == [
        (day(3), day(5), "Reserved"), (day(5), day(8), "Reserved"), (day(8), day(12), "Not available"),
        (day(30), day(31), "Reserved"),
    ]  # fmt: skip
    feed_url = str(client.make_url(local_path(export["url"])))
    added = await client.post(f"/v1/properties/{target['id']}/calendar-imports", json={"url": feed_url}, headers=agent)
    stored = await CalendarImport.get(ObjectId((await added.json())["id"]))
    assert stored is not None
    synced = await sync_import(client.app[SERVICES], stored)

    assert synced.last_error is None
    assert await taken(client, target, agent) == await taken(client, source, agent)
    # Imported nights are not exported again: the target's own feed is empty, so no site's nights echo back to it.
    target_export = await (await client.get(f"/v1/properties/{target['id']}/calendar-export", headers=agent)).json()
    echoed = icalendar.Calendar.from_ical(await (await client.get(local_path(target_export["url"]))).read())
    assert echoed.walk("VEVENT") == []


async def test_the_feed_needs_its_secret_and_a_rotated_secret_retires_the_old_url(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    path = f"/v1/properties/{listing['id']}/calendar-export"
    first = await (await client.get(path, headers=agent)).json()
    assert (await (await client.get(path, headers=agent)).json())["url"] == first["url"]
    assert (await client.get(local_path(first["url"]))).status == 200
    secret = first["url"].rsplit("/", 1)[1].removesuffix(".ics")
    for wrong in (secret[:-1] + ("A" if secret[-1] != "A" else "B"), secret[:10], ""):
        assert (await client.get(f"/v1/calendars/{listing['id']}/{wrong}.ics")).status == 404
    assert (await client.get(f"/v1/calendars/{listing['id']}/{secret}")).status == 404
    assert (await client.get(f"/v1/calendars/{'0' * 24}/{secret}.ics")).status == 404

    rotated = await (await client.post(f"{path}/rotate", headers=agent)).json()

    assert rotated["url"] != first["url"]
    assert (await client.get(local_path(first["url"]))).status == 404
    assert (await client.get(local_path(rotated["url"]))).status == 200
    _, other_agent = await signed_in(client, "agent")
    assert (await client.get(path, headers=other_agent)).status == 403
    assert (await client.post(f"{path}/rotate", headers=other_agent)).status == 403
