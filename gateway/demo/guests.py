"""What the demo guests did: stays at the agents' listings (paid through the M-Pesa sandbox, or still held) and paid
ticket orders for the event, each through the API's own flows; what a guest did already is not done again."""

from datetime import UTC, date, datetime, timedelta

from documents.booking import Booking, BookingStatus
from documents.hosted_event import HostedEvent
from documents.payment import Payment, PaymentPurpose
from documents.property import Property, PropertyStatus
from documents.ticket_order import TicketOrder
from documents.ticket_type import TicketType
from gateway.bookings.holds import StayRequest, hold_nights
from gateway.payments.initiate import PaymentBody, start_payment
from gateway.payments.reconcile import settle_from_vendor
from gateway.security.callers import Caller
from gateway.services import Services
from gateway.tickets.orders import OrderRequest, hold_tickets

# Each guest's stays, as (listing index in title order, paid?): every listing is booked by one guest at most, so the
# demo's stays never compete for nights. A stay starts this many days out, one week after the guest's previous one.
STAYS = [[(0, True), (3, False)], [(1, True), (4, True)]]
FIRST_STAY_IN_DAYS = 21
NIGHTS = 2
# Each guest's tickets: (ticket type name, how many).
TICKETS = [("Regular", 2), ("VIP", 1)]


async def seed_guest_activity(services: Services, guests: list[tuple[Caller, str, str]], event: HostedEvent) -> int:
    """For each (guest, their name, their M-Pesa phone): their stays and their tickets; answers how many were added."""
    listings = await Property.find({"status": PropertyStatus.PUBLISHED.value}).sort("title").to_list()
    added = 0
    for index, (guest, name, phone) in enumerate(guests):
        for order, (listing_index, paid) in enumerate(STAYS[index % len(STAYS)]):
            if listing_index < len(listings):
                check_in = datetime.now(UTC).date() + timedelta(days=FIRST_STAY_IN_DAYS + 7 * order)
                added += await _stay(services, guest, phone, listings[listing_index], check_in, paid=paid)
        ticket_type, quantity = TICKETS[index % len(TICKETS)]
        added += await _tickets(services, guest, name, phone, event, ticket_type, quantity)
    return added


async def _stay(services: Services, guest: Caller, phone: str, listing: Property, check_in: date, *, paid: bool) -> int:
    booking = await Booking.find_one({"guest_id": guest.user_id, "property_id": listing.id})
    added = 0
    if booking is None:
        stay = StayRequest.model_validate(
            {"property_id": str(listing.id), "check_in": check_in, "check_out": check_in + timedelta(days=NIGHTS),
             "guests": min(2, listing.max_guests)}
        )  # fmt: skip
        booking, _ = await hold_nights(services, guest, stay, f"demo-stay-{listing.id}")
        added = 1
    if paid and booking.status == BookingStatus.HELD:
        await _pay(services, guest, phone, PaymentPurpose.BOOKING, str(booking.id))
    return added


async def _tickets(
    services: Services, guest: Caller, name: str, phone: str, event: HostedEvent, type_name: str, quantity: int
) -> int:
    if await TicketOrder.find_one({"buyer_id": guest.user_id, "event_id": event.id}) is not None:
        return 0
    ticket_type = await TicketType.find_one({"event_id": event.id, "name": type_name})
    if ticket_type is None:
        return 0
    request = OrderRequest.model_validate(
        {
            "event_id": str(event.id),
            "lines": [{"ticket_type_id": str(ticket_type.id), "quantity": quantity}],
            "holder_name": name,
        }
    )
    order, _ = await hold_tickets(services, guest, request, f"demo-order-{event.id}")
    await _pay(services, guest, phone, PaymentPurpose.TICKET_ORDER, str(order.id))
    return 1


async def _pay(
    services: Services, payer: Caller, phone: str, purpose: PaymentPurpose, target_id: str
) -> Payment | None:
    """Pay with M-Pesa as the guest would: the sandbox's payer answers the prompt at once, and the payment is settled
    from Daraja's status query (the gateway's reconciliation), which needs no callback to reach a running gateway.
    Without the sandbox (real M-Pesa), nobody can answer the prompt: the booking or order stays held."""
    daraja = services.payments.sandbox.daraja
    if daraja is None:
        return None
    body = PaymentBody(purpose=purpose, target_id=target_id, method="mpesa", phone=phone)
    payment, _ = await start_payment(services, payer, body, f"demo-pay-{target_id}", client_address=None)
    if payment.provider_reference is None:
        return payment
    daraja.settle_now(payment.provider_reference)
    await settle_from_vendor(services, payment)
    return await Payment.get(payment.id)
