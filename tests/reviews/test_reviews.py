"""Reviews after a completed stay: double-blind both ways, the window read by the clock, one per side (a unique
index), categories, one reply, reports that admins act on, and the listing's average in views and search."""

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from beanie import PydanticObjectId

from documents.audit import AuditEvent, AuditKind
from documents.booking import Booking, BookingStatus, PriceBreakdown
from documents.property import CancellationPolicy
from gateway.bookings.lifecycle import complete_finished_stays
from gateway.reviews.reveal import sweep_closed_windows
from gateway.state import SERVICES
from tests.factories import Clock
from tests.properties.builders import problem_type, published_listing, signed_in
from tests.reviews.conftest import START

CHECK_OUT = date(2026, 10, 28)
WINDOW_CLOSES = datetime(2026, 11, 11, tzinfo=UTC)
GUEST_RATINGS = {"cleanliness": 5, "accuracy": 4, "communication": 5, "location": 4, "check_in": 5, "value": 4}
HOST_RATINGS = {"cleanliness": 4, "communication": 5, "house_rules": 3}


class Stay:
    """A completed stay: its booking id, its listing, and both sides signed in."""

    def __init__(
        self, booking_id: str, listing_id: str, guest: tuple[str, dict[str, str]], host: tuple[str, dict[str, str]]
    ) -> None:
        self.booking_id, self.listing_id = booking_id, listing_id
        (self.guest_id, self.guest), (self.host_id, self.host) = guest, host


async def _stay(client: TestClient, *, host: tuple[str, dict[str, str]] | None = None, complete: bool = True) -> Stay:
    host = host or await signed_in(client, "agent")
    guest = await signed_in(client)
    listing = await published_listing(client, host[1])
    booking = Booking(
        property_id=PydanticObjectId(listing["id"]),
        guest_id=guest[0],
        agent_id=host[0],
        check_in=CHECK_OUT - timedelta(days=3),
        check_out=CHECK_OUT,
        guests=2,
        status=BookingStatus.CONFIRMED,
        hold_expires_at=START - timedelta(days=30),
        price=PriceBreakdown(
            nights=3, nightly_price_minor=500_000, nights_total_minor=1_500_000, cleaning_fee_minor=100_000,
            total_minor=1_600_000, currency="KES", platform_fee_minor=160_000, host_earnings_minor=1_440_000,
        ),
        cancellation_policy=CancellationPolicy(),
        payment_id="pay-1",
    )
    await booking.insert()
    if complete:
        assert await complete_finished_stays(client.app[SERVICES], START.date()) >= 1
    return Stay(str(booking.id), listing["id"], guest, host)


def _review(ratings: dict[str, int], overall: int = 5, comment: str = "Lovely stay, spotless flat.") -> dict[str, Any]:
    return {"overall": overall, "ratings": ratings, "comment": comment}


async def _write(client: TestClient, stay: Stay, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return await client.post(f"/v1/bookings/{stay.booking_id}/reviews", json=body, headers=headers)


async def _seen_by(client: TestClient, stay: Stay, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"/v1/bookings/{stay.booking_id}/reviews", headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def _listing(client: TestClient, stay: Stay, headers: dict[str, str]) -> dict[str, Any]:
    return await (await client.get(f"/v1/properties/{stay.listing_id}", headers=headers)).json()


async def _listing_reviews(client: TestClient, stay: Stay, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/properties/{stay.listing_id}/reviews", headers=headers)
    assert response.status == 200, await response.text()
    return list((await response.json())["items"])


async def _inbox_kinds(client: TestClient, headers: dict[str, str]) -> list[str]:
    return [
        item["kind"] for item in (await (await client.get("/v1/me/notifications", headers=headers)).json())["items"]
    ]


@pytest.mark.parametrize("first", ["guest", "host"])
async def test_reviews_stay_sealed_until_both_are_in_whoever_writes_first(client: TestClient, first: str) -> None:
    stay = await _stay(client)
    _, stranger = await signed_in(client)
    writers = [(stay.guest, _review(GUEST_RATINGS, 4)), (stay.host, _review(HOST_RATINGS, 3, "Left the flat tidy."))]
    if first == "host":
        writers.reverse()
    (early, early_body), (late, late_body) = writers

    written = await _write(client, stay, early, early_body)
    assert written.status == 201, await written.text()
    assert (await written.json())["revealed"] is False
    mine, theirs = await _seen_by(client, stay, early), await _seen_by(client, stay, late)
    assert mine["mine"]["comment"] == early_body["comment"] and mine["theirs"] is None
    # The other side learns a review is in, never what it says.
    assert theirs["mine"] is None and theirs["theirs"] is None and theirs["theirs_submitted"] is True
    assert await _listing_reviews(client, stay, stranger) == []
    assert (await _listing(client, stay, stranger))["rating_count"] == 0
    assert (await client.get(f"/v1/bookings/{stay.booking_id}/reviews", headers=stranger)).status == 404

    assert (await _write(client, stay, late, late_body)).status == 201
    for side in (early, late):
        seen = await _seen_by(client, stay, side)
        assert seen["theirs"] is not None and seen["theirs"]["revealed"] and seen["mine"]["revealed"]
        assert "review_revealed" in await _inbox_kinds(client, side)
    public = await _listing_reviews(client, stay, stranger)
    assert [review["author_role"] for review in public] == ["guest"] and public[0]["overall"] == 4
    listing = await _listing(client, stay, stranger)
    assert (listing["rating_count"], listing["rating_average"]) == (1, 4.0)
    host_profile = await (await client.get(f"/v1/users/{stay.host_id}/profile", headers=stranger)).json()
    guest_profile = await (await client.get(f"/v1/users/{stay.guest_id}/profile", headers=stranger)).json()
    assert host_profile["rating"] == {"count": 1, "average": 4.0}
    assert guest_profile["rating"] == {"count": 1, "average": 3.0}
    about_guest = await (await client.get(f"/v1/users/{stay.guest_id}/reviews", headers=stranger)).json()
    assert [review["comment"] for review in about_guest["items"]] == ["Left the flat tidy."]


async def test_a_lone_review_is_public_once_the_window_closes_and_then_counts(client: TestClient, clock: Clock) -> None:
    stay = await _stay(client)
    _, stranger = await signed_in(client)
    assert (await _write(client, stay, stay.guest, _review(GUEST_RATINGS, 2))).status == 201
    clock.now = WINDOW_CLOSES - timedelta(seconds=1)
    assert await _listing_reviews(client, stay, stranger) == []
    services = client.app[SERVICES]
    assert await sweep_closed_windows(services) == 0

    clock.now = WINDOW_CLOSES
    # Read by the clock: public at once, before any sweep ran.
    assert [review["overall"] for review in await _listing_reviews(client, stay, stranger)] == [2]
    assert (await _seen_by(client, stay, stay.host))["theirs"]["overall"] == 2
    late = await _write(client, stay, stay.host, _review(HOST_RATINGS))
    assert late.status == 409 and await problem_type(late) == "review-window-closed"

    assert await sweep_closed_windows(services) == 1
    assert await sweep_closed_windows(services) == 0
    listing = await _listing(client, stay, stranger)
    assert (listing["rating_count"], listing["rating_average"]) == (1, 2.0)


async def test_one_review_per_side_even_when_sent_twice_at_once(client: TestClient) -> None:
    stay = await _stay(client)
    answers = await asyncio.gather(*(_write(client, stay, stay.guest, _review(GUEST_RATINGS)) for _ in range(4)))
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [201, 409, 409, 409]
    assert {await problem_type(answer) for answer in answers if answer.status == 409} == {"already-reviewed"}


async def test_both_sides_writing_at_once_are_revealed_and_counted_once(client: TestClient) -> None:
    host = await signed_in(client, "agent")
    stays = [await _stay(client, host=host) for _ in range(3)]
    for stay in stays:
        guest, host_review = await asyncio.gather(
            _write(client, stay, stay.guest, _review(GUEST_RATINGS, 5)),
            _write(client, stay, stay.host, _review(HOST_RATINGS, 4)),
        )
        assert (guest.status, host_review.status) == (201, 201)
        seen = await _seen_by(client, stay, stay.guest)
        assert seen["theirs"]["revealed"] and seen["mine"]["revealed"]
        assert (await _listing(client, stay, stay.guest))["rating_count"] == 1
    host_profile = await (await client.get(f"/v1/users/{host[0]}/profile", headers=stays[0].guest)).json()
    assert host_profile["rating"] == {"count": 3, "average": 5.0}


async def test_who_may_review_what_and_when(client: TestClient) -> None:
    unfinished = await _stay(client, complete=False)
    early = await _write(client, unfinished, unfinished.guest, _review(GUEST_RATINGS))
    assert early.status == 409 and await problem_type(early) == "not-reviewable"
    stay = await _stay(client)
    _, stranger = await signed_in(client)
    _, admin = await signed_in(client, "admin")
    for outsider in (stranger, admin):
        assert (await _write(client, stay, outsider, _review(GUEST_RATINGS))).status == 404
    missing = await _write(client, stay, stay.guest, _review({**GUEST_RATINGS, "value": 6} | {"location": 4}))
    assert missing.status == 422
    wrong_side = await _write(client, stay, stay.guest, _review(HOST_RATINGS))
    errors = {error["field"]: error["code"] for error in (await wrong_side.json(content_type=None))["errors"]}
    assert errors["body.ratings.house_rules"] == "unknown_category" and errors["body.ratings.value"] == "missing"
    blank = await _write(client, stay, stay.guest, _review(GUEST_RATINGS, comment=""))
    assert blank.status == 422
    assert (await _write(client, stay, stay.guest, {**_review(GUEST_RATINGS), "author_id": stranger})).status == 422


async def test_the_person_reviewed_replies_once_and_only_in_public(client: TestClient) -> None:
    stay = await _stay(client)
    review_id = (await (await _write(client, stay, stay.guest, _review(GUEST_RATINGS, 3))).json())["id"]
    sealed = await client.post(f"/v1/reviews/{review_id}/reply", json={"text": "Thank you!"}, headers=stay.host)
    assert sealed.status == 404
    await _write(client, stay, stay.host, _review(HOST_RATINGS))
    assert (
        await client.post(f"/v1/reviews/{review_id}/reply", json={"text": "Mine"}, headers=stay.guest)
    ).status == 404
    replied = await client.post(
        f"/v1/reviews/{review_id}/reply", json={"text": "Thank you, come again!"}, headers=stay.host
    )
    assert replied.status == 200, await replied.text()
    again = await client.post(f"/v1/reviews/{review_id}/reply", json={"text": "One more thing"}, headers=stay.host)
    assert again.status == 409 and await problem_type(again) == "already-replied"
    shown = await _listing_reviews(client, stay, stay.guest)
    assert shown[0]["reply"]["text"] == "Thank you, come again!"


async def test_a_reported_review_hidden_by_an_admin_leaves_every_view_and_average(client: TestClient) -> None:
    stay = await _stay(client)
    review_id = (
        await (await _write(client, stay, stay.guest, _review(GUEST_RATINGS, 1, "Awful host, a crook"))).json()
    )["id"]
    await _write(client, stay, stay.host, _review(HOST_RATINGS))
    _, reader = await signed_in(client)
    admin_id, admin = await signed_in(client, "admin")
    for _ in range(2):
        reported = await client.post(
            f"/v1/reviews/{review_id}/reports", json={"reason": "Insults, no facts"}, headers=stay.host
        )
        assert reported.status == 202
    await client.post(f"/v1/reviews/{review_id}/reports", json={"reason": "Abusive"}, headers=reader)
    assert (await client.get("/v1/admin/review-reports", headers=reader)).status == 403
    reports = (await (await client.get("/v1/admin/review-reports", headers=admin)).json())["items"]
    assert sorted(report["reason"] for report in reports) == ["Abusive", "Insults, no facts"]
    assert (await _listing(client, stay, reader))["rating_count"] == 1
    rated = await client.get("/v1/properties?min_rating=1", headers=reader)
    assert [item["id"] for item in (await rated.json())["items"]] == [stay.listing_id]

    assert (await client.post(f"/v1/admin/reviews/{review_id}/hide", headers=reader)).status == 403
    assert (await client.post(f"/v1/admin/reviews/{review_id}/hide", headers=admin)).status == 204
    again = await client.post(f"/v1/admin/reviews/{review_id}/hide", headers=admin)
    assert again.status == 409 and await problem_type(again) == "review-resolved"
    assert await _listing_reviews(client, stay, reader) == []
    listing = await _listing(client, stay, reader)
    assert (listing["rating_count"], listing["rating_average"]) == (0, 0.0)
    # The cached search page went with the average.
    assert (await (await client.get("/v1/properties?min_rating=1", headers=reader)).json())["items"] == []
    assert (await (await client.get(f"/v1/users/{stay.host_id}/profile", headers=reader)).json())["rating"][
        "count"
    ] == 0
    assert await sweep_closed_windows(client.app[SERVICES]) == 0
    assert (await (await client.get("/v1/admin/review-reports", headers=admin)).json())["items"] == []
    hidden = await AuditEvent.find({"kind": AuditKind.REVIEW_HIDDEN.value}).to_list()
    assert [str(event.actor_id) for event in hidden] == [admin_id]


async def test_search_filters_and_sorts_on_the_guests_average(client: TestClient) -> None:
    host = await signed_in(client, "agent")
    ratings = [5, 3]
    stays = [await _stay(client, host=host) for _ in ratings]
    unrated = await published_listing(client, host[1])
    for stay, overall in zip(stays, ratings, strict=True):
        await _write(client, stay, stay.guest, _review(GUEST_RATINGS, overall))
        await _write(client, stay, stay.host, _review(HOST_RATINGS))
    _, reader = await signed_in(client)

    async def ids(query: str) -> list[str]:
        response = await client.get(f"/v1/properties?{query}", headers=reader)
        assert response.status == 200, await response.text()
        return [item["id"] for item in (await response.json())["items"]]

    assert await ids("sort=rating") == [stays[0].listing_id, stays[1].listing_id, unrated["id"]]
    assert await ids("min_rating=4") == [stays[0].listing_id]
    assert await ids("min_rating=3&sort=rating") == [stays[0].listing_id, stays[1].listing_id]
    paged = await client.get("/v1/properties?sort=rating&limit=1", headers=reader)
    cursor = (await paged.json())["next_cursor"]
    assert await ids(f"sort=rating&limit=2&cursor={cursor}") == [stays[1].listing_id, unrated["id"]]
    summary = (await (await client.get("/v1/properties?sort=rating", headers=reader)).json())["items"][0]
    assert (summary["rating_count"], summary["rating_average"]) == (1, 5.0)
    assert (await client.get("/v1/properties?min_rating=6", headers=reader)).status == 422
