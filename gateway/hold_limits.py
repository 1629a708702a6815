"""How much one user may hold unpaid, stays and ticket orders alike: caps that hold under concurrency, a rate of new
holds, and holds that lapsed unpaid counted against the user. Holds cost nothing, so without these one person could
keep every night of a listing or every ticket of an event off sale, renewing the holds as they lapse."""

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import Document
from limits import parse_many
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.booking import Booking
from documents.holder_gate import HolderGate
from documents.ticket_order import TicketOrder
from gateway.problems import Conflict, TooManyRequests
from gateway.services import Services


class HoldLimitReached(Conflict):
    slug, title = "hold-limit-reached", "You already hold as much as one person may: pay for or cancel a hold first"


class HoldsLapsed(TooManyRequests):
    slug, title = "holds-lapsed", "Too many of your holds lapsed unpaid: you may hold again later"


# Bookings and ticket orders name their states alike: a hold is "held" until paid, cancelled or "expired".
def active_holds(now: datetime) -> dict[str, Any]:
    """Holds that still keep something off sale: paid, cancelled and expired ones, and lapsed ones, do not."""
    return {"status": "held", "hold_expires_at": {"$gt": now}}


async def admit_holder(services: Services, user_id: str) -> None:
    """Before a new hold: refuse a user whose holds keep lapsing unpaid, then count this one against the rate."""
    await _refuse_lapsing_holder(services, user_id)
    await services.limits.hit("holds_per_user", user_id, refusal="you started too many holds; try again later")
    await HolderGate.ensure(user_id)


async def enforce_cap(
    session: AsyncClientSession, holds: type[Document], of: dict[str, Any], cap: int, what: str
) -> None:
    """In the hold's transaction, after HolderGate.pass_through and the hold's insert: refuse the hold (the
    transaction is aborted) when the holds matching `of`, this one included, now exceed `cap`."""
    held = await holds.get_pymongo_collection().count_documents({**of, **active_holds(datetime.now(UTC))}, session=session)
    if held > cap:
        raise HoldLimitReached(f"you already hold {cap} {what}: pay for or cancel one first")


async def _refuse_lapsing_holder(services: Services, user_id: str) -> None:
    now = datetime.now(UTC)
    for window in parse_many(services.settings.rate_limits.lapsed_holds_per_user):
        length = timedelta(seconds=window.get_expiry())
        lapses = sorted(
            await _lapse_times(Booking, {"guest_id": user_id}, now - length, now)
            + await _lapse_times(TicketOrder, {"buyer_id": user_id}, now - length, now)
        )
        if len(lapses) >= window.amount:
            # Room again once enough of them have left the window.
            frees_at = lapses[len(lapses) - window.amount] + length
            raise HoldsLapsed(math.ceil((frees_at - now).total_seconds()), f"{len(lapses)} of your holds lapsed unpaid lately")


async def _lapse_times(holds: type[Document], of: dict[str, Any], since: datetime, now: datetime) -> list[datetime]:
    """When each hold that ran out unpaid in (since, now] ran out: expired ones, and held ones not swept yet."""
    lapsed = {**of, "status": {"$in": ["held", "expired"]}, "hold_expires_at": {"$gt": since, "$lte": now}}
    found = await holds.get_pymongo_collection().find(lapsed, {"hold_expires_at": 1}).to_list()
    return [hold["hold_expires_at"] for hold in found]
