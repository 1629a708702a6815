"""What admins do with payouts: read them all, newest first, and push one that is stuck or failed along as far as its
state allows — send a pending one again, ask M-Pesa about a sent or timed-out one, pay a failed one's amount anew."""

from typing import Any

from beanie import PydanticObjectId

from documents.audit import AuditEvent, AuditKind
from documents.payout import Payout, PayoutStatus
from gateway.logs import get_logger
from gateway.paging import newest_first
from gateway.payouts.paying import payout_provider, send_payout, start_payout
from gateway.payouts.schedule import ask_about
from gateway.problems import Conflict, NotFound
from gateway.security.callers import Caller, require_admin
from gateway.services import Services

log = get_logger("lango.payouts")


class PayoutNotRetryable(Conflict):
    slug, title = "payout-not-retryable", "This payout cannot be retried now"


def _account_id(user_id: str) -> PydanticObjectId | None:
    return PydanticObjectId(user_id) if PydanticObjectId.is_valid(user_id) else None


_ADMINS_ONLY = "only admins read every payout"


async def payouts_page(
    caller: Caller, status: PayoutStatus | None, user_id: str | None, after: str | None, limit: int
) -> tuple[list[Payout], str | None]:
    require_admin(caller, _ADMINS_ONLY)
    match: dict[str, Any] = {}
    if status is not None:
        match["status"] = status.value
    if user_id is not None:
        match["user_id"] = user_id
    return await newest_first(Payout, match, after, limit)


async def retry_payout(services: Services, admin: Caller, payout_id: str) -> Payout:
    """The payout as the retry left it (or, for a failed one, the new payout of what is payable now).

    Each step is the payout job's own: a pending payout is sent with its own id, which Daraja never pays twice; a sent
    or timed-out one is only asked about; a failed one moved no money, so what is payable now is paid as a new payout,
    under the same holdback, phone-settling time and one-open-payout rule as the job's. A paid one is final."""
    require_admin(admin, _ADMINS_ONLY)
    payout = await Payout.by_id(payout_id)
    if payout is None:
        raise NotFound("no such payout")
    if payout.status == PayoutStatus.PAID:
        raise PayoutNotRetryable("the payout is paid")
    if payout_provider(services, payout.method) is None:
        raise PayoutNotRetryable(f"payouts by {payout.method} are not configured here")
    log.info("payout retried by an admin", payout_id=payout_id, status=payout.status.value, admin=admin.user_id)
    await AuditEvent.record(
        AuditKind.PAYOUT_RETRIED_BY_ADMIN, user_id=_account_id(payout.user_id), actor_id=PydanticObjectId(admin.user_id),
        payout_id=payout_id, status=payout.status.value,
    )  # fmt: skip
    if payout.status == PayoutStatus.PENDING:
        return await send_payout(services, payout)
    if payout.status in (PayoutStatus.SENT, PayoutStatus.TIMED_OUT):
        outcome = await ask_about(services, payout, services.clock())
        if outcome == "not_queried":
            raise PayoutNotRetryable("M-Pesa could not be asked about it now; try again in a moment")
        return await Payout.by_id(payout_id) or payout
    started = await start_payout(services, payout.user_id, services.clock())
    if started is None:
        raise PayoutNotRetryable(
            "nothing is payable to this person now: below the minimum, their payout phone is new, or a payout of theirs "
            "is still open"
        )
    return started
