"""What must hold whatever happened: money, inventory and access, checked against the database, the vendors and the
sockets once the marketplace is quiet. Each check answers the violations it finds, as sentences."""

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bson import ObjectId

from gateway.ledger.check import check_ledger
from gateway.reconciliation.run import reconcile_day, statement_sources
from tests.model.clients import Answer
from tests.model.harness import Marketplace
from tests.model.world import REVOCATION_REACH_S, Person, World

COLLECTED = ("succeeded", "partially_refunded", "refunded")
OPEN = ("created", "pending")
# A refund the vendor refused covers nothing: the money is still with us.
REFUND_COVERS = ("requested", "pending", "manual", "succeeded")


def vendor_collected(market: Marketplace, payment: dict[str, Any]) -> bool:
    """Whether the vendor took the payer's money for this payment, by the emulator's own records."""
    reference = payment.get("provider_reference")
    vendors = market.vendors
    if reference is None:
        return False
    if payment["provider"] == "mpesa":
        push = vendors.daraja.pushes.get(reference)
        paid_on_the_paybill = vendors.daraja.transactions.get(reference)
        if paid_on_the_paybill is not None and paid_on_the_paybill.kind == "paybill":
            return True
        return push is not None and push.settled and push.scenario.result_code == 0
    if payment["provider"] == "stripe":
        intent = vendors.stripe.intents.get(reference)
        return intent is not None and intent["status"] == "succeeded"
    order = vendors.paypal.orders.get(reference)
    return order is not None and order.get("status") == "COMPLETED"


def vendor_told_us(market: Marketplace, payment: dict[str, Any]) -> bool:
    """Whether a vendor notification naming this payment reached a gateway and was taken."""
    reference = (payment.get("provider_reference") or "").encode()
    vendors = market.vendors
    deliveries = [*vendors.daraja.callbacks, *vendors.stripe.notifications.deliveries, *vendors.paypal.notifications.deliveries]
    return bool(reference) and any(reference in delivery.body and delivery.status == 200 for delivery in deliveries)


async def money(market: Marketplace, world: World) -> list[str]:
    """Every collected amount belongs to exactly one confirmed booking or paid order, or is refunded (or flagged for a
    person to refund), never both, never lost; nothing counts as paid that the vendor did not collect."""
    db = market.database
    violations: list[str] = []
    kept_by_target: dict[str, list[str]] = defaultdict(list)
    for paid in world.payments:
        payment = await db.payments.find_one({"_id": ObjectId(paid.payment_id)})
        if payment is None:
            violations.append(f"payment {paid.payment_id} is gone")
            continue
        status, collected = payment["status"], vendor_collected(market, payment)
        name = f"{paid.method} payment {paid.payment_id} ({status})"
        if status in COLLECTED and not collected:
            violations.append(f"{name} counts as paid, but {paid.method} collected nothing")
        if collected and status not in COLLECTED and payment.get("flagged") is None and vendor_told_us(market, payment):
            violations.append(f"{name}: {paid.method} collected the money and said so, and it is neither kept nor flagged")
        refunded, charged = payment.get("refunded_minor", 0), payment.get("charged_amount_minor") or payment["requested_amount_minor"]
        if status in COLLECTED and (status == "refunded") != (refunded >= charged):
            violations.append(f"{name} has {refunded} of {charged} refunded")
        if status not in COLLECTED:
            continue
        asked = sum(refund["requested_minor"] for refund in payment.get("refunds", []) if refund["status"] in REFUND_COVERS)
        target = await _target(db, payment)
        fulfils = target is not None and target.get("payment_id") == paid.payment_id
        owed = _refund_owed(payment, target, fulfils, await _event_cancelled(db, target))
        if owed is None:
            kept_by_target[payment["target_id"]].append(paid.payment_id)
            if asked:
                violations.append(f"{name} fulfils its {payment['purpose']} and is refunded {asked} as well")
        elif asked < owed and payment.get("flagged") is None:
            violations.append(f"{name}: {owed} is owed back to the payer, {asked} was refunded and nothing flagged")
    violations += [f"{target} is kept by several payments: {ids}" for target, ids in kept_by_target.items() if len(ids) > 1]
    return violations


def _refund_owed(payment: dict[str, Any], target: dict[str, Any] | None, fulfils: bool, event_cancelled: bool) -> int | None:
    """What must go back to the payer of a collected payment; None when the money is rightly kept."""
    if target is None or not fulfils:
        return payment["requested_amount_minor"]
    if payment["purpose"] == "booking":
        if target["status"] in ("confirmed", "completed"):
            return None
        if target["status"] == "cancelled":
            return target.get("refund_due_minor") or 0
        return payment["requested_amount_minor"]
    if target["status"] == "paid" and not event_cancelled:
        return None
    return payment["requested_amount_minor"]


async def _target(db: Any, payment: dict[str, Any]) -> dict[str, Any] | None:
    collection = db.bookings if payment["purpose"] == "booking" else db.ticket_orders
    return await collection.find_one({"_id": ObjectId(payment["target_id"])}) if ObjectId.is_valid(payment["target_id"]) else None


async def _event_cancelled(db: Any, order: dict[str, Any] | None) -> bool:
    if order is None or "event_id" not in order:
        return False
    event = await db.events.find_one({"_id": order["event_id"]}, {"status": 1})
    return event is not None and event["status"] == "cancelled"


async def inventory(market: Marketplace, world: World) -> list[str]:
    """No night held or booked twice; tickets sold never exceed what there is; no valid ticket for a cancelled event."""
    db = market.database
    violations: list[str] = []
    for property_id in world.listings:
        active = await db.bookings.find(
            {"property_id": ObjectId(property_id), "status": {"$in": ["held", "confirmed"]}}
        ).sort("check_in").to_list()
        for earlier, later in zip(active, active[1:], strict=False):
            if later["check_in"] < earlier["check_out"]:
                violations.append(f"bookings {earlier['_id']} and {later['_id']} hold the same nights of {property_id}")
        for booking in active:
            nights = (booking["check_out"] - booking["check_in"]).days
            claims = await db.night_claims.count_documents({"booking_id": booking["_id"]})
            if claims != nights:
                violations.append(f"{booking['status']} booking {booking['_id']} claims {claims} of its {nights} nights")
        # What search reads: the listing's own copy of its claimed nights.
        listing = await db.properties.find_one({"_id": ObjectId(property_id)}, {"claimed_nights": 1})
        claimed = {claim["night"] async for claim in db.night_claims.find({"property_id": ObjectId(property_id)})}
        if listing is not None and set(listing.get("claimed_nights", [])) != claimed:
            violations.append(f"listing {property_id}: claimed_nights differ from its night claims")
    for hosted in world.events:
        event = await db.events.find_one({"_id": ObjectId(hosted.event_id)})
        tickets = await db.tickets.find({"event_id": ObjectId(hosted.event_id)}).to_list()
        live = [ticket for ticket in tickets if ticket["status"] == "valid"]
        if event["sold"] > event["capacity"] or len(live) > event["capacity"]:
            violations.append(f"event {hosted.event_id}: {event['sold']} sold, {len(live)} live tickets, capacity {event['capacity']}")
        if event["status"] == "cancelled" and live:
            violations.append(f"cancelled event {hosted.event_id} still has {len(live)} valid tickets")
        for type_id in hosted.ticket_type_ids:
            ticket_type = await db.ticket_types.find_one({"_id": ObjectId(type_id)})
            if ticket_type["sold"] > ticket_type["quantity"]:
                violations.append(f"ticket type {type_id}: {ticket_type['sold']} sold of {ticket_type['quantity']}")
        if event["status"] == "published":
            taking = await db.ticket_orders.find(
                {"event_id": ObjectId(hosted.event_id), "$or": [{"status": "paid"}, {"status": "held", "seats_taken": True}]}
            ).to_list()
            seats = sum(line["quantity"] for order in taking for line in order["lines"])
            if seats != event["sold"]:
                violations.append(f"event {hosted.event_id} counts {event['sold']} seats taken, its orders hold {seats}")
        for ticket in live:
            order = await db.ticket_orders.find_one({"_id": ticket["order_id"]}, {"status": 1})
            if order is None or order["status"] != "paid":
                violations.append(f"ticket {ticket['_id']} is valid, its order is {order and order['status']}")
    return violations


async def prices(market: Marketplace, world: World) -> list[str]:
    """Every booking's frozen price adds up: one price per night of the stay, their sum less the discount plus the
    cleaning fee is the total, and the commission and the host's earnings split it."""
    violations: list[str] = []
    for stay in world.stays:
        booking = await market.database.bookings.find_one({"_id": ObjectId(stay.booking_id)})
        price = booking["price"]
        nights = [night["night"].date() for night in price["night_prices"]]
        first = booking["check_in"].date()
        if nights != [first + timedelta(days=n) for n in range((booking["check_out"].date() - first).days)]:
            violations.append(f"booking {stay.booking_id} prices the nights {nights}, not those of its stay")
        if price["nights_total_minor"] != sum(night["price_minor"] for night in price["night_prices"]):
            violations.append(f"booking {stay.booking_id}: its nights do not add up to nights_total_minor")
        if price["total_minor"] != price["nights_total_minor"] - price["discount_minor"] + price["cleaning_fee_minor"]:
            violations.append(f"booking {stay.booking_id}: total_minor is not nights less discount plus cleaning")
        if price["platform_fee_minor"] + price["host_earnings_minor"] != price["total_minor"]:
            violations.append(f"booking {stay.booking_id}: commission and earnings do not split the total")
    return violations


async def calendars(market: Marketplace, world: World, *, just_synced: bool = False) -> list[str]:
    """A feed blocks only nights it showed at its last sync; right after a sync, each of those nights from today on is
    taken here: by the feed, by the agent's block, or by a booking the feed lists as a conflict. (Later, a cancelled
    booking frees a night until the next sync.)"""
    violations: list[str] = []
    today = datetime.now(UTC).date()
    for property_id, import_id in world.feeds.items():
        shown = world.feed_nights.get(property_id, set())
        feed = await market.database.calendar_imports.find_one({"_id": ObjectId(import_id)})
        claims = {claim["night"].date(): claim async for claim in market.database.night_claims.find({"property_id": ObjectId(property_id)})}
        for night, claim in claims.items():
            if claim.get("import_id") == ObjectId(import_id) and night not in shown:
                violations.append(f"feed {import_id} blocks {night}, which it no longer shows")
        conflicts = {(conflict["night"].date(), conflict["booking_id"]) for conflict in feed["conflicts"]}
        for night in sorted(shown) if just_synced else []:
            claim = claims.get(night)
            if night < today or (claim and claim["kind"] != "booking"):
                continue
            if claim is None:
                violations.append(f"feed {import_id} shows {night} taken, yet it is free here")
            elif (night, claim["booking_id"]) not in conflicts:
                violations.append(f"booking {claim['booking_id']} holds {night}, which feed {import_id} shows taken, unflagged")
    return violations


async def ledger(market: Marketplace, world: World) -> list[str]:
    """Every entry balances and every balance is the sum of its lines; each collected payment posted its collection
    once, and no payment returned more than it collected; no host is owed less than nothing."""
    db = market.database
    violations = await check_ledger(db)
    async for owed in db.ledger_balances.find({"account": {"$regex": "^host_payable:"}, "balance_minor": {"$gt": 0}}):
        violations.append(f"{owed['account']} is owed less than nothing: {owed['balance_minor']} {owed['currency']}")
    for paid in world.payments:
        payment = await db.payments.find_one({"_id": ObjectId(paid.payment_id)}, {"status": 1})
        if payment is None:
            continue
        entries = await db.ledger_entries.find({"cause.payment_id": paid.payment_id}).to_list()
        collections = sum(entry["kind"] == "payment_collected" for entry in entries)
        if collections != (payment["status"] in COLLECTED):
            violations.append(f"{paid.method} payment {paid.payment_id} ({payment['status']}) posted {collections} collections")
        cash = sum(line["amount_minor"] for entry in entries for line in entry["lines"] if line["account"].startswith("cash:"))
        if cash < 0:
            violations.append(f"{paid.method} payment {paid.payment_id} returned {-cash} more than it collected")
    return violations + await vendor_fees(market)


def _vendor_fee(market: Marketplace, vendor: str, transaction_id: str) -> tuple[int, str] | None:
    """The fee the vendor's own record shows on one of its transactions, and its currency; None if it has none."""
    if vendor == "stripe":
        found = market.vendors.stripe.balance_transactions.get(transaction_id)
        return (found["fee"], found["currency"].upper()) if found else None
    for detail in market.vendors.paypal.transactions:
        info = detail["transaction_info"]
        if info["transaction_id"] == transaction_id and "fee_amount" in info:
            return -int(Decimal(info["fee_amount"]["value"]) * 100), info["fee_amount"]["currency_code"]
    return None


async def vendor_fees(market: Marketplace) -> list[str]:
    """Each vendor fee in the ledger is the fee the vendor took on that transaction, from its cash there."""
    violations: list[str] = []
    async for entry in market.database.ledger_entries.find({"kind": "vendor_fee"}):
        _, vendor, transaction_id = entry["key"].split(":", 2)
        posted = {(line["account"], line["currency"]): line["amount_minor"] for line in entry["lines"]}
        charged = _vendor_fee(market, vendor, transaction_id)
        if charged is None:
            violations.append(f"{entry['key']} posts a fee {vendor} has no record of")
            continue
        fee, currency = charged
        if posted != {(f"vendor_fees:{vendor}", currency): fee, (f"cash:{vendor}", currency): -fee}:
            violations.append(f"{entry['key']} posts {posted}, yet {vendor} took {fee} {currency}")
    return violations


async def reconciliation(market: Marketplace) -> list[str]:
    """Today's reconciliation with each vendor finds no cash in the ledger the vendor does not have, and no amount
    that differs. A vendor may still hold money the ledger has not caught up with (a payer's callback never came and
    the status query is not due yet): `missing_in_ledger` is the payments reconciliation's to settle, not a fault."""
    violations: list[str] = []
    worker = market.worker
    today = datetime.now(UTC).date()
    for name, source in statement_sources(worker).items():
        report = await reconcile_day(worker, today, source)
        if report is None or report.status != "complete":
            violations.append(f"the {name} reconciliation of {today} did not complete: {report and report.error}")
            continue
        async for row in market.database.reconciliation_rows.find(
            {"report_id": report.id, "run_id": report.run_id, "status": {"$in": ["missing_at_vendor", "amount_differs"]}}
        ):
            violations.append(f"{name} reconciliation: {row['kind']} {row['reference']} is {row['status']} "
                              f"(ledger {row['ledger_minor']}, vendor {row['vendor_minor']} {row['currency']})")  # fmt: skip
    return violations


def access(world: World) -> list[str]:
    """No event reaches a socket of a revoked session, or of a user outside the event's room; a revoked session's
    sockets are closed within REVOCATION_REACH_S."""
    violations: list[str] = []
    now = time.monotonic()
    for session in world.sessions:
        socket = session.socket
        if socket is None:
            continue
        for received in socket.received:
            room = received.data.get("room") if isinstance(received.data, dict) else None
            if room is not None and room not in session.rooms:
                violations.append(f"{received.event} of room {room} reached a socket of {session.person.user_id}")
            if session.revoked_at is not None and received.at > session.revoked_at + REVOCATION_REACH_S:
                violations.append(f"{received.event} reached a socket of session {session.session_id}, revoked before")
        revoked_long_ago = session.revoked_at is not None and now > session.revoked_at + REVOCATION_REACH_S
        if revoked_long_ago and (socket.disconnected_at is None or socket.disconnected_at > session.revoked_at + REVOCATION_REACH_S):
            violations.append(f"the socket of session {session.session_id} stayed open after the session was revoked")
    return violations


# What the model writes in conversations: a phone number, hidden until the stay is paid for.
PHONE_WRITTEN = "0712 345 678"
# A conversation's history is read for this many of the latest stays talked about, after every step.
TALKS_CHECKED = 3


def contacts(world: World, read: Callable[[str, Person], Answer]) -> list[str]:
    """A phone number written about a stay shows exactly while the stay is confirmed or completed."""
    violations: list[str] = []
    for talk in world.talks[-TALKS_CHECKED:]:
        booking = read(f"/v1/bookings/{talk.stay.booking_id}", talk.stay.guest)
        history = read(f"/v1/conversations/{talk.conversation_id}/messages?limit=100", talk.stay.guest)
        if not (booking.ok and history.ok):
            continue
        visible = booking.body["status"] in ("confirmed", "completed")
        for message in history.body["items"]:
            if (PHONE_WRITTEN in message["text"]) != visible:
                shown = "hides" if visible else "shows"
                status = booking.body["status"]
                violations.append(f"a message about booking {talk.stay.booking_id} ({status}) {shown} the phone number")
    return violations


async def reviews(market: Marketplace, world: World) -> list[str]:
    """Double-blind reviews: one is public (revealed, counted) only once both sides are in or its window closed; a
    listing's rating count and average are exactly its public, counted guest reviews', a person's profile's those of
    the counted reviews about them."""
    violations: list[str] = []
    db = market.database
    for booking_id, sides in world.reviewed.items():
        found = await db.reviews.find({"booking_id": booking_id}).to_list()
        for review in found:
            closed = world.reviews_swept_to is not None and _utc(review["window_closes_at"]) <= world.reviews_swept_to
            if review.get("revealed_at") is not None and len(found) < 2:
                violations.append(f"the {review['author_role']} review of booking {booking_id} is revealed alone")
            if review["counted"] and not (review.get("revealed_at") is not None or closed):
                violations.append(f"the {review['author_role']} review of booking {booking_id} counts while sealed")
            if len(found) == 2 and not (review.get("revealed_at") and review["counted"]):
                violations.append(f"both reviews of booking {booking_id} are in but the {review['author_role']}'s is sealed")
        if sorted(review["author_role"] for review in found) != sorted(sides):
            violations.append(f"booking {booking_id} has reviews by {[r['author_role'] for r in found]}, not {sides}")
    rated = [("listing", db.properties, {"_id": ObjectId(listing_id)}, {"property_id": listing_id, "author_role": "guest"})
             for listing_id in world.listings]  # fmt: skip
    rated += [("profile", db.profiles, {"user_id": user_id}, {"subject_id": user_id}) for user_id in world.people]
    for what, collection, match, about in rated:
        shown_on = await collection.find_one(match) or {}
        counted = await db.reviews.find({**about, "counted": True, "hidden_at": None}).to_list()
        count, total = len(counted), sum(review["overall"] for review in counted)
        average = round(total / count, 2) if count else 0
        shown = (shown_on.get("rating_count", 0), shown_on.get("rating_sum", 0), shown_on.get("rating_average", 0))
        # The database rounds the average to two places itself: a float's last digit may differ from Python's.
        if shown[:2] != (count, total) or abs(shown[2] - average) > 0.006:
            violations.append(f"the {what} {match} shows rating {shown}; its counted reviews make {(count, total, average)}")
    return violations


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# The other side's view of a stay's reviews is read for this many of the latest stays reviewed, after every step.
REVIEWS_CHECKED = 3


def sealed(world: World, hosts: dict[str, Person], read: Callable[[str, Person], Answer]) -> list[str]:
    """Each side sees the other's review only once both are in (the gateways' clock never reaches a window's close):
    before that, `theirs` is empty, and `theirs_submitted` says whether it is written."""
    violations: list[str] = []
    for stay in [stay for stay in world.stays if stay.booking_id in world.reviewed][-REVIEWS_CHECKED:]:
        sides = world.reviewed[stay.booking_id]
        for side, reader in (("guest", stay.guest), ("host", hosts[stay.property_id])):
            answer = read(f"/v1/bookings/{stay.booking_id}/reviews", reader)
            if not answer.ok:
                continue
            other_in = any(other != side for other in sides)
            theirs = answer.body["theirs"]
            if answer.body["theirs_submitted"] != other_in or (theirs is not None) != (len(sides) == 2):
                violations.append(f"the {side} of booking {stay.booking_id} (reviewed by {sides}) sees {answer.body}")
    return violations
