"""Reviews after an event: an attendee let in at the door and the event's host review each other, double-blind,
within the window after the event ended; someone who never came in has nothing to review."""

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from bson import ObjectId

from documents.door_pass import DoorPass
from documents.hosted_event import EventStatus, HostedEvent, Venue
from documents.property import Address, GeoPoint
from documents.ticket import Ticket
from tests.factories import Clock
from tests.properties.builders import NAIROBI, problem_type, signed_in

ENDS_AT = datetime(2026, 11, 2, 23, 0, tzinfo=UTC)
ATTENDEE_RATINGS = {"organisation": 5, "venue": 4, "value": 4}


async def _event(host_id: str) -> HostedEvent:
    event = HostedEvent(
        host_id=host_id,
        title="Sauti za Busara: Closing Night",
        venue=Venue(
            name="Old Fort", address=Address(county="Nairobi", town="Westlands"), location=GeoPoint(coordinates=NAIROBI)
        ),
        starts_at=ENDS_AT - timedelta(hours=5),
        ends_at=ENDS_AT,
        capacity=100,
        status=EventStatus.PUBLISHED,
    )
    await event.insert()
    return event


async def _ticket(event: HostedEvent, holder_id: str, *, let_in: bool) -> None:
    """A paid ticket as issuing leaves it, and its door pass after a scan let it in (or before any scan)."""
    ticket = Ticket(
        event_id=event.id,  # type: ignore[arg-type]
        order_id=ObjectId(),  # type: ignore[arg-type]
        seat=0,
        ticket_type_id=ObjectId(),  # type: ignore[arg-type]
        type_name="General",
        holder_id=holder_id,
        holder_name="Amani",
        valid_from=event.starts_at,
        valid_until=event.ends_at,
    )
    await ticket.insert()
    await DoorPass.open_for([ticket])
    if let_in:
        await DoorPass.get_pymongo_collection().update_one(
            {"_id": ticket.id},
            {"$set": {"inside": True, "entries": 1, "admitted_at": event.starts_at, "admitted_gate": "main"}},
        )


def _review(ratings: dict[str, int], overall: int) -> dict[str, Any]:
    return {"overall": overall, "ratings": ratings, "comment": "A night to remember."}


async def test_an_attendee_and_the_host_review_each_other_after_the_event(client: TestClient, clock: Clock) -> None:
    host_id, host = await signed_in(client, "agent")
    attendee_id, attendee = await signed_in(client)
    no_show_id, no_show = await signed_in(client)
    late_id, late_writer = await signed_in(client)
    event = await _event(host_id)
    await _ticket(event, attendee_id, let_in=True)
    await _ticket(event, late_id, let_in=True)
    await _ticket(event, no_show_id, let_in=False)
    mine = f"/v1/events/{event.id}/reviews"
    about_attendee = f"/v1/events/{event.id}/attendees/{attendee_id}/reviews"

    early = await client.post(mine, json=_review(ATTENDEE_RATINGS, 5), headers=attendee)
    assert early.status == 409 and await problem_type(early) == "not-reviewable"
    clock.now = ENDS_AT + timedelta(hours=1)
    assert (await client.post(mine, json=_review(ATTENDEE_RATINGS, 5), headers=no_show)).status == 404
    assert (
        await client.post(
            f"/v1/events/{event.id}/attendees/{no_show_id}/reviews", json=_review({"conduct": 5}, 5), headers=host
        )
    ).status == 404
    wrong = await client.post(mine, json=_review({"cleanliness": 5}, 5), headers=attendee)
    assert wrong.status == 422

    written = await client.post(mine, json=_review(ATTENDEE_RATINGS, 5), headers=attendee)
    assert written.status == 201, await written.text()
    assert (await client.get(mine, headers=no_show)).status == 200
    assert (await (await client.get(mine, headers=no_show)).json())["items"] == []
    host_side = await (await client.get(about_attendee, headers=host)).json()
    assert host_side["theirs"] is None and host_side["theirs_submitted"] is True
    assert (await client.get(about_attendee, headers=no_show)).status == 404

    replied = await client.post(about_attendee, json=_review({"conduct": 4}, 4), headers=host)
    assert replied.status == 201, await replied.text()
    public = (await (await client.get(mine, headers=no_show)).json())["items"]
    assert [(review["author_role"], review["overall"], review["event_id"]) for review in public] == [
        ("guest", 5, str(event.id))
    ]
    attendee_side = await (await client.get(about_attendee, headers=attendee)).json()
    assert attendee_side["theirs"]["ratings"] == {"conduct": 4}
    host_profile = await (await client.get(f"/v1/users/{host_id}/profile", headers=no_show)).json()
    assert host_profile["rating"] == {"count": 1, "average": 5.0}
    again = await client.post(mine, json=_review(ATTENDEE_RATINGS, 1), headers=attendee)
    assert again.status == 409 and await problem_type(again) == "already-reviewed"

    clock.now = ENDS_AT + timedelta(days=14)
    late = await client.post(mine, json=_review(ATTENDEE_RATINGS, 1), headers=late_writer)
    assert late.status == 409 and await problem_type(late) == "review-window-closed"
