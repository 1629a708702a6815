"""What a host or agent may be paid now: the one place that says it.

Earned is the host's share (the price less the platform's commission) of stays checked into and events held at
least payouts.holdback_s ago (bookings confirmed or completed, ticket orders paid and not refunded), less every
payout not failed. It is never more than the ledger says the person is owed: what refunds took back is not owed, and
what a payout on its way carries is reserved out of it.
"""

from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from documents.booking import Booking, BookingStatus
from documents.hosted_event import HostedEvent
from documents.payout import Payout, PayoutStatus
from documents.ticket_order import OrderStatus, TicketOrder
from gateway.ledger.payout_entries import owed_to

Session = AsyncClientSession | None


async def _sum(collection: Any, match: dict[str, Any], field: Any, session: Session) -> int:
    pipeline = [{"$match": match}, {"$group": {"_id": None, "total": {"$sum": field}}}]
    cursor = await collection.aggregate(pipeline, session=session)
    async for row in cursor:
        return int(row["total"])
    return 0


async def _stays_earned(user_id: str, cutoff: datetime, session: Session) -> int:
    # Check-in is a day, stored as its midnight UTC: a stay counts once that midnight is holdback_s ago.
    match = {
        "agent_id": user_id,
        "status": {"$in": [BookingStatus.CONFIRMED.value, BookingStatus.COMPLETED.value]},
        "check_in": {"$lte": cutoff},
        "price.currency": "KES",
    }
    # Bookings priced before the commission existed carry no host share: the agent earns all of it.
    share = {"$ifNull": ["$price.host_earnings_minor", "$price.total_minor"]}
    return await _sum(Booking.get_pymongo_collection(), match, share, session)


async def _tickets_earned(user_id: str, cutoff: datetime, session: Session) -> int:
    ended = {"host_id": user_id, "ends_at": {"$lte": cutoff}}
    held = HostedEvent.get_pymongo_collection().find(ended, {"_id": 1}, session=session)
    event_ids = [event["_id"] async for event in held]
    if not event_ids:
        return 0
    match = {"host_id": user_id, "event_id": {"$in": event_ids}, "status": OrderStatus.PAID.value, "currency": "KES"}
    share = {"$subtract": ["$total_minor", {"$ifNull": ["$platform_fee_minor", 0]}]}
    return await _sum(TicketOrder.get_pymongo_collection(), match, share, session)


async def paid_out_minor(user_id: str, session: Session = None) -> int:
    """Every payout of the person that is not failed: paid, or on its way (it may yet be paid)."""
    match = {"user_id": user_id, "status": {"$ne": PayoutStatus.FAILED.value}}
    return await _sum(Payout.get_pymongo_collection(), match, "$amount_minor", session)


async def payable_minor(user_id: str, now: datetime, holdback: timedelta, session: Session = None) -> int:
    """KES minor units the person may be paid out now (never below zero), as the transaction of `session` sees it."""
    cutoff = now - holdback
    earned = await _stays_earned(user_id, cutoff, session) + await _tickets_earned(user_id, cutoff, session)
    by_sales = earned - await paid_out_minor(user_id, session)
    return max(0, min(by_sales, await owed_to(user_id, "KES", session)))
