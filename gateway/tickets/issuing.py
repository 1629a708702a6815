"""Issuing tickets once their order is paid, their signed secrets, and telling the buyer."""

from datetime import timedelta

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from redis.exceptions import RedisError

from documents.door_pass import DoorPass
from documents.hosted_event import HostedEvent
from documents.property import Property
from documents.ticket import Ticket, TicketStatus
from documents.ticket_order import OrderStateConflict, OrderStatus, TicketOrder
from gateway.database import in_transaction
from gateway.hosted_events.keys import private_key, ticket_sealing_keys
from gateway.logs import get_logger
from gateway.messaging.bus import BusUnavailable
from gateway.messaging.catalogue import TICKET_ISSUED
from gateway.messaging.targets import user_room
from gateway.notifications import NotificationKind, notify
from gateway.services import Services
from gateway.tickets.holders import remember_holders
from gateway.tickets.problems import OrderStateProblem
from gateway.tickets.qr import qr_link
from gateway.tickets.secrets import TicketClaims, sign_ticket_secret

log = get_logger("lango.tickets")


async def ticket_order_paid(services: Services, order_id: str, payment_id: str) -> list[Ticket]:
    """held -> paid with its tickets issued, in one transaction that also counts the sale on its event, then the
    tickets sent; running it again for the same payment issues nothing new. Once the event is cancelled it refuses
    (OrderStateProblem), and the payment's purpose returns the money."""
    order = await TicketOrder.get(PydanticObjectId(order_id))
    if order is None:
        raise OrderStateProblem("no such ticket order")
    event = await HostedEvent.get(order.event_id)
    if event is None:
        raise OrderStateProblem("the order's event is gone")
    if not (order.status == OrderStatus.PAID and order.payment_id == payment_id):
        tickets = _tickets_of(services, event, order)

        async def pay(session: AsyncClientSession) -> TicketOrder:
            paid = await order.mark_paid(payment_id, session)
            if not await HostedEvent.record_sale(event.id, paid.seats, session):
                raise OrderStateProblem("the event was cancelled", status_now=OrderStatus.HELD)
            await Ticket.insert_many(tickets, session=session)
            await DoorPass.open_for(tickets, session)
            return paid

        try:
            order = await in_transaction(services, pay)
        except OrderStateConflict as error:
            raise OrderStateProblem(str(error), status_now=error.current) from None
    issued = await Ticket.find({"order_id": order.id}).sort("seat").to_list()
    try:
        await remember_holders(services.redis, services.settings.redis, issued)
    except RedisError as error:
        # Only a speed-up for the door: a check-in reads the ticket when its holder is not listed.
        log.warning("ticket holders not listed", order_id=str(order.id), error=str(error))
    for ticket in issued:
        # A ticket the event's cancellation revoked meanwhile has nothing to send.
        if ticket.status == TicketStatus.VALID:
            await send_ticket(services, event, ticket)
    return issued


def _tickets_of(services: Services, event: HostedEvent, order: TicketOrder) -> list[Ticket]:
    """One ticket per seat, with its id fixed here so its door pass can be opened in the same transaction."""
    valid_from = event.starts_at - timedelta(seconds=services.settings.tickets.entry_opens_before_start_s)
    seats = [line for line in order.lines for _ in range(line.quantity)]
    return [
        Ticket(
            id=PydanticObjectId(),
            event_id=order.event_id,
            order_id=order.id,
            seat=seat,
            ticket_type_id=line.ticket_type_id,
            type_name=line.type_name,
            holder_id=order.buyer_id,
            holder_name=order.holder_name,
            valid_from=valid_from,
            valid_until=event.ends_at,
        )
        for seat, line in enumerate(seats)
    ]


def ticket_secret(services: Services, event: HostedEvent, ticket: Ticket) -> str:
    """The ticket's current QR secret; Ed25519 signatures are deterministic, so it is the same every time."""
    key = event.signing_key
    claims = TicketClaims(
        ticket_id=str(ticket.id),
        event_id=str(ticket.event_id),
        ticket_type_id=str(ticket.ticket_type_id),
        valid_from=ticket.valid_from,
        valid_until=ticket.valid_until,
        version=ticket.secret_version,
        kid=key.kid,
    )
    signing = private_key(str(event.id), key.kid, key.sealed_private_key, ticket_sealing_keys(services.settings.tickets))
    return sign_ticket_secret(claims, signing)


def ticket_code(ticket: Ticket) -> str:
    """A short code a person can read out at the door when the QR code will not scan."""
    return str(ticket.id)[-8:].upper()


async def venue_label(event: HostedEvent) -> str:
    if event.venue.property_id is None:
        return event.venue.name or ""
    listing = await Property.get(event.venue.property_id)
    return listing.title if listing else ""


async def send_ticket(services: Services, event: HostedEvent, ticket: Ticket) -> None:
    """`ticket.issued` to the holder's sockets, and the ticket with its QR code by email, SMS and push."""
    ticket_id = str(ticket.id)
    public_url = services.settings.notifications.public_app_url
    qr_url = qr_link(services, ticket, "png")
    try:
        await services.bus.publish(
            user_room(ticket.holder_id),
            TICKET_ISSUED,
            {"ticket_id": ticket_id, "event_id": str(ticket.event_id), "ticket_type": ticket.type_name,
             "holder_name": ticket.holder_name, "qr_png": qr_url, "qr_svg": qr_link(services, ticket, "svg")},  # fmt: skip
        )
    except BusUnavailable as error:
        log.warning("ticket.issued not published", ticket_id=ticket_id, error=str(error))
    context = {
        "event_title": event.title,
        "starts_at": event.starts_at,
        "venue": await venue_label(event),
        "qr_url": qr_url,
        "ticket_code": ticket_code(ticket),
        "ticket_url": f"{public_url}/tickets/{ticket_id}",
    }
    await notify(services, ticket.holder_id, NotificationKind.TICKET_ISSUED, context,
                 dedupe_key=f"ticket_issued:{ticket_id}:{ticket.secret_version}", data={"ticket_id": ticket_id})  # fmt: skip
