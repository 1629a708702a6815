"""Events on sale, paid tickets and door staff, built through the real routes; shared by ticket and event tests."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from documents.door_pass import DoorPass
from documents.ticket import Ticket
from documents.user import User
from gateway.state import SERVICES
from gateway.tickets.issuing import ticket_order_paid
from tests.factories import access_token_for, auth_header, create_user


@dataclass
class OnSale:
    host: User
    host_headers: dict[str, str]
    event_id: str
    ticket_type_id: str


def nonce() -> str:
    return uuid.uuid4().hex


async def event_on_sale(
    client: TestClient, *, quantity: int = 100, capacity: int = 1_000, reentry_allowed: bool = False,
    starts_in: timedelta = timedelta(hours=1),
) -> OnSale:  # fmt: skip
    app = client.app
    host = await create_user(app, roles=("agent",))
    headers = auth_header(access_token_for(app, host))
    starts_at = datetime.now(UTC) + starts_in
    created = await client.post("/v1/events", headers=headers, json={
        "title": "Sauti za Busara", "description": "<p>Music <script>alert(1)</script>night</p>",
        "venue": {"name": "Old Fort", "address": {"county": "Zanzibar", "town": "Stone Town"},
                  "location": {"type": "Point", "coordinates": [39.19, -6.16]}},
        "starts_at": starts_at.isoformat(), "ends_at": (starts_at + timedelta(hours=6)).isoformat(),
        "capacity": capacity, "reentry_allowed": reentry_allowed,
    })  # fmt: skip
    assert created.status == 201, await created.text()
    event_id = (await created.json())["id"]
    typed = await client.post(f"/v1/events/{event_id}/ticket-types", headers=headers, json={
        "name": "Regular", "price_minor": 150_000, "currency": "KES", "quantity": quantity,
        "sales_start": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "sales_end": starts_at.isoformat(), "per_order_limit": 10,
    })  # fmt: skip
    assert typed.status == 201, await typed.text()
    published = await client.post(f"/v1/events/{event_id}/publish", headers=headers)
    assert published.status == 200, await published.text()
    return OnSale(host, headers, event_id, (await typed.json())["id"])


async def buyer(app: web.Application) -> tuple[User, dict[str, str]]:
    user = await create_user(app)
    return user, auth_header(access_token_for(app, user))


async def hold(client: TestClient, sale: OnSale, headers: dict[str, str], quantity: int = 1, **extra: Any) -> Any:
    return await client.post("/v1/ticket-orders", headers={**headers, **extra}, json={
        "event_id": sale.event_id, "lines": [{"ticket_type_id": sale.ticket_type_id, "quantity": quantity}],
        "holder_name": "Amani Njoroge",
    })  # fmt: skip


async def paid_tickets(client: TestClient, sale: OnSale, count: int) -> list[dict[str, Any]]:
    """`count` issued tickets (orders of up to 10), each as GET /v1/tickets/{id} shows it to its holder."""
    _, headers = await buyer(client.app)
    tickets: list[dict[str, Any]] = []
    while len(tickets) < count:
        answer = await hold(client, sale, headers, min(10, count - len(tickets)))
        assert answer.status == 201, await answer.text()
        order = await answer.json()
        for ticket in await ticket_order_paid(client.app[SERVICES], order["id"], f"pay-{order['id']}"):
            tickets.append(await (await client.get(f"/v1/tickets/{ticket.id}", headers=headers)).json())
    return tickets


async def door_staff(client: TestClient, sale: OnSale, count: int = 1) -> list[tuple[User, dict[str, str]]]:
    staff = []
    for _ in range(count):
        scanner = await create_user(client.app, roles=("scanner",))
        added = await client.post(f"/v1/events/{sale.event_id}/scanners", headers=sale.host_headers,
                                  json={"user_id": str(scanner.id)})  # fmt: skip
        assert added.status == 200, await added.text()
        staff.append((scanner, auth_header(access_token_for(client.app, scanner))))
    return staff


def scan_body(secret: str, *, gate: str = "North", direction: str = "entry", at: datetime | None = None,
              scan_nonce: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {"secret": secret, "type": direction, "gate": gate, "nonce": scan_nonce or nonce(),
            "scanned_at": (at or datetime.now(UTC)).isoformat()}  # fmt: skip


async def ticket_doc(ticket_id: str) -> Ticket:
    ticket = await Ticket.get(ticket_id)
    assert ticket is not None
    return ticket


async def door_pass(ticket_id: str) -> DoorPass:
    door = await DoorPass.get(ticket_id)
    assert door is not None
    return door
