"""Cancelling an event returns its buyers' money: paid orders refunded through each vendor, held ones closed and
unpayable, payments racing the cancel refunded, every ticket revoked, every buyer told, the job safe to run twice."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from beanie import PydanticObjectId
from saq import Status

from documents.hosted_event import HostedEvent
from documents.notification import Notification, NotificationKind
from documents.payment import Payment
from documents.ticket import Ticket, TicketStatus
from documents.ticket_order import TicketOrder
from documents.ticket_type import TicketType
from gateway.messaging.bus import Published
from gateway.state import SERVICES
from gateway.tickets.cancelled_events import resume_event_cancellations, settle_cancelled_event
from gateway.tickets.issuing import ticket_order_paid
from gateway.tickets.problems import OrderStateProblem
from gateway.vendors.payments import SandboxVendors
from tests.payments.conftest import (  # noqa: F401  (a gateway its vendor emulators call back)
    client,
    delivered,
    gateway_port,
    gateway_socket,
    payment_statuses,
    published,
    sandbox,
    settings,
    stored_payment,
)
from tests.properties.builders import problem_type
from tests.tickets.builders import OnSale, buyer, event_on_sale, hold


async def held_order(client: TestClient, sale: OnSale, quantity: int = 2) -> tuple[dict[str, Any], dict[str, str]]:
    _, headers = await buyer(client.app)
    answer = await hold(client, sale, headers, quantity)
    assert answer.status == 201, await answer.text()
    return await answer.json(), headers


async def start_payment(client: TestClient, order: dict[str, Any], headers: dict[str, str], method: str) -> Any:
    body = {"purpose": "ticket_order", "target_id": order["id"], "method": method, "phone": "0712345678"}
    if method != "mpesa":
        body.pop("phone")
    return await client.post("/v1/payments", json=body, headers={**headers, "Idempotency-Key": f"pay-{order['id']}"})


async def pending(client: TestClient, order: dict[str, Any], headers: dict[str, str], method: str) -> tuple[dict[str, Any], str]:
    answer = await start_payment(client, order, headers, method)
    assert answer.status == 201, await answer.text()
    payment = await answer.json()
    return payment, (await stored_payment(payment["id"])).provider_reference or ""


async def vendor_settles(client: TestClient, sandbox: SandboxVendors, method: str, reference: str) -> None:
    """The payer completes the payment at the vendor, whose notifications then reach the gateway and are applied."""
    if method == "stripe":
        notifications, expected = sandbox.stripe.notifications, 1
        sandbox.stripe.confirm(reference)
    elif method == "paypal":
        # The approval makes the gateway capture; the capture's own notification follows.
        notifications, expected = sandbox.paypal.notifications, 2
        sandbox.paypal.approve(reference)
    else:
        notifications, expected = sandbox.daraja.notifications, 1
        sandbox.daraja.settle_now(reference)
    await delivered(client.app, notifications, len(notifications.deliveries) + expected)


async def paid_order(client: TestClient, sandbox: SandboxVendors, sale: OnSale, method: str) -> tuple[dict[str, Any], dict[str, Any]]:
    order, headers = await held_order(client, sale)
    payment, reference = await pending(client, order, headers, method)
    await vendor_settles(client, sandbox, method, reference)
    assert (await stored_payment(payment["id"])).status == "succeeded"
    return order, payment


async def cancel(client: TestClient, sale: OnSale) -> None:
    answer = await client.post(f"/v1/events/{sale.event_id}/cancel", headers=sale.host_headers)
    assert answer.status == 200, await answer.text()
    assert (await answer.json())["status"] == "cancelled"


async def run_cancellation_job(client: TestClient, sale: OnSale) -> None:
    """The job as the worker runs it, page after page, until it reports the cancellation settled."""
    while await settle_cancelled_event({"services": client.app[SERVICES]}, event_id=sale.event_id):
        pass
    await client.app[SERVICES].payments.finish_background_work()


async def valid_tickets(sale: OnSale) -> int:
    return await Ticket.find({"event_id": PydanticObjectId(sale.event_id), "status": TicketStatus.VALID.value}).count()


async def order_status(order: dict[str, Any]) -> str:
    stored = await TicketOrder.get(order["id"])
    assert stored is not None
    return stored.status.value


async def test_cancelling_refunds_every_paid_order_and_closes_every_held_one(
    client: TestClient, sandbox: SandboxVendors, published: list[Published]
) -> None:
    sale = await event_on_sale(client, quantity=50)
    by_card, card_payment = await paid_order(client, sandbox, sale, "stripe")
    by_paypal, paypal_payment = await paid_order(client, sandbox, sale, "paypal")
    by_mpesa, mpesa_payment = await paid_order(client, sandbox, sale, "mpesa")
    unpaid, unpaid_headers = await held_order(client, sale)
    paying, paying_headers = await held_order(client, sale)
    prompt, _ = await pending(client, paying, paying_headers, "mpesa")
    assert await valid_tickets(sale) == 6

    await cancel(client, sale)
    await run_cancellation_job(client, sale)

    card = await stored_payment(card_payment["id"])
    assert (card.status, card.refunded_minor, [r.status for r in card.refunds]) == ("refunded", 300_000, ["succeeded"])
    intent = sandbox.stripe.intents[card.provider_reference or ""]
    assert sandbox.stripe.charges[intent["latest_charge"]]["refunded"] is True
    paypal = await stored_payment(paypal_payment["id"])
    assert (paypal.status, [r.status for r in paypal.refunds]) == ("refunded", ["succeeded"])
    assert paypal.refunded_minor == paypal.charged_amount_minor
    # M-Pesa money goes back through B2C to the paying phone: sent, and refunded once Daraja's Result comes.
    mpesa = await stored_payment(mpesa_payment["id"])
    assert (mpesa.status, [(r.status, r.requested_minor) for r in mpesa.refunds]) == ("succeeded", [("pending", 300_000)])
    assert [await order_status(order) for order in (by_card, by_paypal, by_mpesa)] == ["refunded", "refunded", "paid"]
    assert [await order_status(order) for order in (unpaid, paying)] == ["cancelled", "cancelled"]
    assert (await stored_payment(prompt["id"])).status == "cancelled"
    assert await valid_tickets(sale) == 0
    # Seats go back with each refund and each closed hold; the M-Pesa order stays paid until its B2C Result.
    ticket_type = await TicketType.get(sale.ticket_type_id)
    assert ticket_type is not None and ticket_type.sold == 2
    # The buyers hear it: their payments move on their sockets, and each order gets a notice.
    assert payment_statuses(published, card_payment["id"])[-1] == "refunded"
    assert payment_statuses(published, paypal_payment["id"])[-1] == "refunded"
    assert [event.data["refunds"][0]["status"] for event in published
            if event.type == "payment.updated" and event.data["id"] == mpesa_payment["id"] and event.data["refunds"]] == ["pending"]  # fmt: skip
    notices = await Notification.find({"kind": NotificationKind.EVENT_CANCELLED.value}).to_list()
    assert sorted(notice.data["order_id"] for notice in notices) == sorted(o["id"] for o in (by_card, by_paypal, by_mpesa, unpaid, paying))
    assert sorted(notice.context["refund_due_minor"] for notice in notices) == [0, 0, 300_000, 300_000, 300_000]
    assert [notice.context["refund_by_team"] for notice in notices if notice.data["order_id"] == by_mpesa["id"]] == [False]
    event = await HostedEvent.get(sale.event_id)
    assert event is not None and event.cancellation is not None and event.cancellation.settled_at is not None

    # The held order stays unpayable, and the event sells nothing more.
    refused = await start_payment(client, unpaid, unpaid_headers, "stripe")
    assert refused.status == 409 and await problem_type(refused) == "ticket-order-state-conflict"
    assert (await hold(client, sale, unpaid_headers)).status == 404


async def test_a_held_order_is_unpayable_from_the_moment_of_the_cancel(client: TestClient, sandbox: SandboxVendors) -> None:
    sale = await event_on_sale(client)
    order, headers = await held_order(client, sale)

    await cancel(client, sale)

    # The job has not run yet: the order is still held, but the event refuses the payment.
    assert await order_status(order) == "held"
    refused = await start_payment(client, order, headers, "mpesa")
    assert refused.status == 409 and await problem_type(refused) == "ticket-order-state-conflict"
    assert await Payment.count() == 0 and sandbox.daraja.pushes == {}


async def test_running_the_job_twice_or_side_by_side_refunds_once(client: TestClient, sandbox: SandboxVendors) -> None:
    sale = await event_on_sale(client)
    _, card_payment = await paid_order(client, sandbox, sale, "stripe")
    await cancel(client, sale)

    await asyncio.gather(run_cancellation_job(client, sale), run_cancellation_job(client, sale))
    # A run after the cancellation settled, as a resumed or retried job would be.
    await HostedEvent.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(sale.event_id)}, {"$set": {"cancellation.after_order_id": None, "cancellation.settled_at": None}}
    )
    await run_cancellation_job(client, sale)

    refunded = await stored_payment(card_payment["id"])
    assert refunded.status == "refunded" and len(refunded.refunds) == 1
    assert len(sandbox.stripe.refunds) == 1
    assert await Notification.find({"kind": NotificationKind.EVENT_CANCELLED.value}).count() == 1


@pytest.mark.parametrize("method", ["stripe", "mpesa"])
async def test_a_payment_racing_the_cancel_is_refunded_and_leaves_no_valid_ticket(
    client: TestClient, sandbox: SandboxVendors, method: str
) -> None:
    for attempt in range(4):
        sale = await event_on_sale(client)
        order, headers = await held_order(client, sale)
        payment, reference = await pending(client, order, headers, method)

        async def cancel_and_settle() -> None:
            await cancel(client, sale)
            await run_cancellation_job(client, sale)

        racers = [vendor_settles(client, sandbox, method, reference), cancel_and_settle()]
        # Each order of start, so the payment lands before, during and after the cancel across the attempts.
        await asyncio.gather(*(racers if attempt % 2 else reversed(racers)))
        await client.app[SERVICES].payments.finish_background_work()
        await run_cancellation_job(client, sale)

        settled = await stored_payment(payment["id"])
        if method == "stripe":
            assert (settled.status, len(settled.refunds)) == ("refunded", 1), attempt
        else:
            assert [refund.status for refund in settled.refunds] == ["pending"], attempt
        assert await valid_tickets(sale) == 0, attempt
        assert await order_status(order) in ("refunded", "cancelled", "paid"), attempt


async def test_an_order_paid_while_the_event_is_cancelled_never_keeps_a_valid_ticket(client: TestClient) -> None:
    """The payment's success (mark paid, issue) against the cancel and its job, started together many times: the
    order is paid before the cancel and then revoked, or refused; MongoDB serialises the two on the event."""
    outcomes = set()
    for attempt in range(12):
        sale = await event_on_sale(client)
        order, _ = await held_order(client, sale)

        async def pay() -> str:
            try:
                await ticket_order_paid(client.app[SERVICES], order["id"], f"pay-{attempt}")
            except OrderStateProblem:
                return "refused"
            return "paid"

        async def cancel_and_settle() -> None:
            await cancel(client, sale)
            await run_cancellation_job(client, sale)

        racers = (pay(), cancel_and_settle()) if attempt % 2 else (cancel_and_settle(), pay())
        paid = next(result for result in await asyncio.gather(*racers) if result is not None)
        await run_cancellation_job(client, sale)

        outcomes.add(paid)
        assert await valid_tickets(sale) == 0, attempt
        event = await HostedEvent.get(sale.event_id)
        assert event is not None and event.paid_seats == (2 if paid == "paid" else 0), attempt
        assert await order_status(order) == ("paid" if paid == "paid" else "cancelled"), attempt
    assert outcomes <= {"paid", "refused"}


async def test_a_cancellation_whose_job_stopped_is_resumed_where_it_was(client: TestClient, sandbox: SandboxVendors) -> None:
    sale = await event_on_sale(client)
    _, card_payment = await paid_order(client, sandbox, sale, "stripe")
    await cancel(client, sale)
    queue = client.app[SERVICES].queue
    first = await queue.job(f"event-cancelled:{sale.event_id}:start")
    assert first is not None and first.status == Status.QUEUED

    # A worker took the job and died before settling anything: nothing is queued any more, nothing moves.
    await queue.finish(first, Status.FAILED, error="worker lost")
    assert await resume_event_cancellations({"services": client.app[SERVICES]}) == 0
    await HostedEvent.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(sale.event_id)}, {"$set": {"cancellation.progressed_at": datetime.now(UTC) - timedelta(hours=1)}}
    )

    assert await resume_event_cancellations({"services": client.app[SERVICES]}) == 1
    again = await queue.job(f"event-cancelled:{sale.event_id}:start")
    assert again is not None and again.status == Status.QUEUED
    await run_cancellation_job(client, sale)
    assert (await stored_payment(card_payment["id"])).status == "refunded"
