"""Hosting events: sanitised drafts, publishing, ticket types, and the tickets' QR codes and notices."""

from typing import Any

from aiohttp.test_utils import TestClient
from yarl import URL

from documents.notification import Notification, NotificationKind
from documents.ticket import Ticket
from gateway.state import SERVICES
from gateway.tickets.issuing import ticket_order_paid
from gateway.tickets.qr import qr_link
from tests.properties.builders import listing_body, published_listing, signed_in
from tests.tickets.builders import buyer, door_staff, event_on_sale, paid_tickets


async def test_a_published_event_shows_sanitised_text_and_what_is_left(client: TestClient) -> None:
    sale = await event_on_sale(client, quantity=40)
    _, stranger = await buyer(client.app)

    seen = await (await client.get(f"/v1/events/{sale.event_id}", headers=stranger)).json()
    listed = await (await client.get("/v1/events", headers=stranger)).json()

    assert seen["description"] == "<p>Music night</p>" and seen["status"] == "published"
    assert seen["ticket_types"][0]["available"] == 40 and seen["scanner_ids"] is None
    assert sale.event_id in [event["id"] for event in listed["items"]]


async def test_door_staff_list_the_events_whose_door_they_keep(client: TestClient) -> None:
    sale, other = await event_on_sale(client), await event_on_sale(client)
    [(_, staff)] = await door_staff(client, sale)

    kept = await (await client.get("/v1/events?scanning=true", headers=staff)).json()
    hosted = await (await client.get("/v1/events?scanning=true", headers=other.host_headers)).json()

    assert [event["id"] for event in kept["items"]] == [sale.event_id]
    assert [event["id"] for event in hosted["items"]] == [other.event_id]


async def test_drafts_stay_with_their_host_and_one_currency_per_event(client: TestClient) -> None:
    sale = await event_on_sale(client)
    _, stranger = await buyer(client.app)
    drafted = await client.post("/v1/events", headers=sale.host_headers, json={
        "title": "Draft", "venue": {"property_id": "0" * 24}, "starts_at": "2099-01-01T18:00:00Z",
        "ends_at": "2099-01-01T23:00:00Z", "capacity": 10,
    })  # fmt: skip
    usd = await client.post(f"/v1/events/{sale.event_id}/ticket-types", headers=sale.host_headers, json={
        "name": "VIP", "price_minor": 5_000, "currency": "USD", "quantity": 5,
        "sales_start": "2026-01-01T00:00:00Z", "sales_end": "2099-01-01T00:00:00Z",
    })  # fmt: skip
    mixed_venue = await client.post("/v1/events", headers=sale.host_headers, json={
        "title": "Both", "venue": {"property_id": "0" * 24, "name": "Hall"}, "starts_at": "2099-01-01T18:00:00Z",
        "ends_at": "2099-01-01T23:00:00Z", "capacity": 10,
    })  # fmt: skip
    guest_create = await client.post("/v1/events", headers=stranger, json={})

    assert drafted.status == 422 and (await drafted.json())["type"] == "urn:lango:problem:event-not-valid"
    assert usd.status == 422 and "KES" in (await usd.json())["detail"]
    assert mixed_venue.status == 422 and guest_create.status == 403


async def test_tickets_come_as_png_and_svg_qr_codes_and_reach_the_buyer(client: TestClient) -> None:
    sale = await event_on_sale(client)
    [ticket] = await paid_tickets(client, sale, 1)
    stored = await Ticket.get(ticket["id"])
    assert stored is not None
    _, stranger = await buyer(client.app)

    png = await client.get(URL(qr_link(client.app[SERVICES], stored, "png")).path_qs)
    svg = await client.get(f"/v1/tickets/{ticket['id']}/qr.svg", headers=stranger)
    forged = await client.get(f"/v1/tickets/{ticket['id']}/qr.png?key=AAAAAAAAAAAAAAAAAAAAAAAA")

    assert png.status == 200 and png.content_type == "image/png" and (await png.read()).startswith(b"\x89PNG")
    assert svg.status == 404 and forged.status == 404
    notice = await Notification.find_one({"user_id": stored.holder_id, "kind": NotificationKind.TICKET_ISSUED.value})
    assert notice is not None and notice.data == {"ticket_id": ticket["id"]}


async def test_the_holder_reads_the_svg_qr_code_with_a_token(client: TestClient) -> None:
    sale = await event_on_sale(client)
    _, headers = await buyer(client.app)
    order = await (await client.post("/v1/ticket-orders", headers=headers, json={
        "event_id": sale.event_id, "lines": [{"ticket_type_id": sale.ticket_type_id, "quantity": 1}],
        "holder_name": "Zawadi",
    })).json()  # fmt: skip
    [ticket] = await ticket_order_paid(client.app[SERVICES], order["id"], "pay-svg")
    svg = await client.get(f"/v1/tickets/{ticket.id}/qr.svg", headers=headers)

    assert svg.status == 200 and svg.content_type == "image/svg+xml" and b"<svg" in await svg.read()


async def test_a_venue_listing_is_the_hosts_own_or_published_and_others_drafts_do_not_exist(client: TestClient) -> None:
    _, host_headers = await signed_in(client, "agent")
    _, other_agent = await signed_in(client, "agent")
    others_draft = await client.post("/v1/properties", headers=other_agent, json=listing_body(title="Unlisted villa"))
    own_draft = await client.post("/v1/properties", headers=host_headers, json=listing_body())
    published = await published_listing(client, other_agent)

    async def venue_at(property_id: str) -> Any:
        return await client.post("/v1/events", headers=host_headers, json={
            "title": "Launch", "venue": {"property_id": property_id}, "starts_at": "2099-01-01T18:00:00Z",
            "ends_at": "2099-01-01T23:00:00Z", "capacity": 10,
        })  # fmt: skip

    hidden = await venue_at((await others_draft.json())["id"])
    missing = await venue_at("0" * 24)

    assert hidden.status == missing.status == 422
    hidden_problem, missing_problem = await hidden.json(), await missing.json()
    assert (hidden_problem["type"], hidden_problem["detail"]) == (missing_problem["type"], missing_problem["detail"])
    assert (await venue_at((await own_draft.json())["id"])).status == 201
    assert (await venue_at(published["id"])).status == 201
