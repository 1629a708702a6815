"""Selling tickets: no overselling under concurrency, idempotent holds, seats freed on cancel and expiry, issuing."""

import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient
from beanie import PydanticObjectId

from documents.ticket import Ticket
from documents.ticket_order import OrderStatus, TicketOrder
from documents.ticket_type import TicketType
from gateway.state import SERVICES
from gateway.tickets.issuing import ticket_order_paid
from gateway.tickets.orders import expire_lapsed_orders
from tests.tickets.builders import buyer, event_on_sale, hold


async def test_200_concurrent_buyers_for_100_tickets_buy_exactly_100(client: TestClient) -> None:
    sale = await event_on_sale(client, quantity=100)
    buyers = [await buyer(client.app) for _ in range(200)]

    answers = await asyncio.gather(*(hold(client, sale, headers) for _, headers in buyers))

    statuses = [answer.status for answer in answers]
    assert statuses.count(201) == 100 and statuses.count(409) == 100
    refused = [await answer.json() for answer in answers if answer.status == 409]
    assert {problem["type"] for problem in refused} == {"urn:lango:problem:sold-out"}
    assert await TicketOrder.find({"event_id": PydanticObjectId(sale.event_id)}).count() == 100
    ticket_type = await TicketType.get(sale.ticket_type_id)
    assert ticket_type is not None and ticket_type.sold == 100


async def test_capacity_of_the_event_caps_all_ticket_types_together(client: TestClient) -> None:
    sale = await event_on_sale(client, quantity=50, capacity=3)
    _, headers = await buyer(client.app)

    first, second = await hold(client, sale, headers, 2), await hold(client, sale, headers, 2)

    assert first.status == 201 and second.status == 409
    ticket_type = await TicketType.get(sale.ticket_type_id)
    assert ticket_type is not None and ticket_type.sold == 2, "the refused order gave its type's tickets back"


async def test_a_retried_hold_with_the_same_idempotency_key_holds_once(client: TestClient) -> None:
    sale = await event_on_sale(client, quantity=5)
    _, headers = await buyer(client.app)
    key = {"Idempotency-Key": "order-attempt-0001"}

    answers = await asyncio.gather(*(hold(client, sale, headers, 2, **key) for _ in range(5)))

    bodies = [await answer.json() for answer in answers]
    assert len({body["id"] for body in bodies}) == 1
    assert sorted(answer.status for answer in answers) == [200, 200, 200, 200, 201]
    ticket_type = await TicketType.get(sale.ticket_type_id)
    assert ticket_type is not None and ticket_type.sold == 2


async def test_cancelled_and_expired_holds_put_tickets_back_on_sale(client: TestClient) -> None:
    sale = await event_on_sale(client, quantity=2)
    _, headers = await buyer(client.app)
    cancelled = await (await hold(client, sale, headers, 2)).json()

    cancel = await client.post(f"/v1/ticket-orders/{cancelled['id']}/cancel", headers=headers)
    lapsing = await (await hold(client, sale, headers, 2)).json()
    expired = await expire_lapsed_orders(client.app[SERVICES], now=datetime.now(UTC) + timedelta(hours=1))
    again = await hold(client, sale, headers, 2)

    assert (await cancel.json())["status"] == "cancelled"
    assert expired == 1 and (await TicketOrder.get(lapsing["id"])).status == OrderStatus.EXPIRED  # type: ignore[union-attr]
    assert again.status == 201


async def test_paying_issues_one_ticket_per_seat_once(client: TestClient) -> None:
    sale = await event_on_sale(client, quantity=10)
    holder, headers = await buyer(client.app)
    order = await (await hold(client, sale, headers, 3)).json()

    first = await ticket_order_paid(client.app[SERVICES], order["id"], "pay-1")
    again = await ticket_order_paid(client.app[SERVICES], order["id"], "pay-1")
    mine = await (await client.get("/v1/tickets", headers=headers)).json()

    assert [t.id for t in first] == [t.id for t in again] and len(first) == 3
    assert await Ticket.find({"holder_id": str(holder.id)}).count() == 3
    assert all(item["secret"] and item["holder_name"] == "Amani Njoroge" for item in mine["items"])
    assert (await TicketOrder.get(order["id"])).status == OrderStatus.PAID  # type: ignore[union-attr]
