"""Tickets refused at the door for a reason: re-issued (old QR code), refunded, or of another event."""

from aiohttp.test_utils import TestClient

from documents.payment import Payment, PaymentPurpose, PaymentStatus
from documents.user import User
from gateway.state import SERVICES
from gateway.tickets.payments import TicketOrderPayments
from tests.factories import access_token_for, auth_header
from tests.tickets.builders import door_staff, event_on_sale, paid_tickets, scan_body, ticket_doc


async def _scan(client: TestClient, event_id: str, headers: dict[str, str], body: dict) -> dict:  # type: ignore[type-arg]
    answer = await client.post(f"/v1/events/{event_id}/scans", headers=headers, json=body)
    assert answer.status == 200, await answer.text()
    return await answer.json()  # type: ignore[no-any-return]


async def test_reissued_and_refunded_tickets_are_refused_with_their_reason(client: TestClient) -> None:
    sale = await event_on_sale(client)
    [leaked], [refunded] = await paid_tickets(client, sale, 1), await paid_tickets(client, sale, 1)
    other_sale = await event_on_sale(client)
    [foreign] = await paid_tickets(client, other_sale, 1)
    [(_, headers)] = await door_staff(client, sale)
    holder, refunded_ticket = await ticket_doc(leaked["id"]), await ticket_doc(refunded["id"])
    owner = await User.get(holder.holder_id)
    assert owner is not None
    reissued = await (await client.post(f"/v1/tickets/{leaked['id']}/reissue",
                                        headers=auth_header(access_token_for(client.app, owner)))).json()  # fmt: skip
    refund = Payment(user_id=refunded_ticket.holder_id, purpose=PaymentPurpose.TICKET_ORDER,
                     target_id=str(refunded_ticket.order_id),
                     provider="sandbox", status=PaymentStatus.REFUNDED, description="tickets",
                     requested_amount_minor=300_000, requested_currency="KES")  # fmt: skip
    await TicketOrderPayments().on_refunded(client.app[SERVICES], refund)
    kit = await (await client.get(f"/v1/events/{sale.event_id}/scanner-kit", headers=headers)).json()

    old = await _scan(client, sale.event_id, headers, scan_body(leaked["secret"]))
    unpaid = await _scan(client, sale.event_id, headers, scan_body(refunded["secret"]))
    wrong = await _scan(client, sale.event_id, headers, scan_body(foreign["secret"]))
    new = await _scan(client, sale.event_id, headers, scan_body(reissued["secret"]))

    assert (old["result"], unpaid["result"], wrong["result"], new["result"]) == ("revoked", "unpaid", "wrong_event", "ok")
    assert {"ticket_id": leaked["id"], "current_version": 2} in kit["revoked"]


async def test_a_ticket_the_host_revokes_while_its_holder_is_inside_stops_admitting(client: TestClient) -> None:
    sale = await event_on_sale(client, reentry_allowed=True)
    [ticket] = await paid_tickets(client, sale, 1)
    [(_, headers)] = await door_staff(client, sale)
    entered = await _scan(client, sale.event_id, headers, scan_body(ticket["secret"]))
    await _scan(client, sale.event_id, headers, scan_body(ticket["secret"], direction="exit"))

    revoked = await client.post(f"/v1/tickets/{ticket['id']}/revoke", headers=sale.host_headers)
    again = await _scan(client, sale.event_id, headers, scan_body(ticket["secret"]))

    assert entered["result"] == "ok" and revoked.status == 200
    view = await revoked.json()
    assert (view["status"], view["secret"], view["inside"], view["admitted_gate"]) == ("revoked", None, False, "North")
    assert again["result"] == "revoked" and again["holder_name"] == "Amani Njoroge"
