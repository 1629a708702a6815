"""The payout job: pays out what became payable, sends again what Daraja never acknowledged, asks M-Pesa about
payouts whose Result is late or timed out, and reports those M-Pesa has long had no record of."""

from datetime import datetime, timedelta
from typing import Any

from documents.payout import Payout, PayoutStatus
from documents.payout_destination import PayoutDestination
from gateway.jobs import every
from gateway.logs import get_logger
from gateway.payouts.paying import payout_provider, send_payout, start_payout
from gateway.redis_client import redis_key
from gateway.services import Services
from providers.errors import ProviderError, VendorRejected

log = get_logger("lango.payouts")
UNKNOWN_LONG = "payout still unknown to M-Pesa: its amount stays reserved; check the B2C account's statement"


@every("*/5 * * * *", timeout_s=300)
async def pay_out_earnings(ctx: dict[str, Any]) -> dict[str, int]:
    """Every five minutes, on one worker at a time."""
    services: Services = ctx["services"]
    claimed = await services.redis.set(redis_key(services.settings.redis, "payouts", "run"), "1", nx=True, ex=290)
    if not claimed:
        return {}
    return await pay_out_now(services, services.clock())


async def pay_out_now(services: Services, now: datetime) -> dict[str, int]:
    settings = services.settings.payouts
    done = {"started": 0, "resent": 0, "queried": 0, "reported_unknown": 0}
    async for destination in PayoutDestination.find({}).limit(settings.batch):
        done["started"] += await start_payout(services, destination.user_id, now) is not None
    unacknowledged = {"status": PayoutStatus.PENDING.value, "updated_at": {"$lte": now - timedelta(seconds=settings.resend_after_s)}}
    async for payout in Payout.find(unacknowledged).limit(settings.batch):
        await send_payout(services, payout)
        done["resent"] += 1
    for status in (PayoutStatus.SENT, PayoutStatus.TIMED_OUT):
        late = {"status": status.value, "updated_at": {"$lte": now - timedelta(seconds=settings.status_query_after_s)}}
        async for payout in Payout.find(late).limit(settings.batch):
            outcome = await ask_about(services, payout, now)
            done[outcome] = done.get(outcome, 0) + 1
    if any(done.values()):
        log.info("payouts run", **done)
    return done


async def ask_about(services: Services, payout: Payout, now: datetime) -> str:
    """A transaction status query for the payout; its Result comes to the status route (a status that moved nothing
    fails it, Completed pays it). One M-Pesa does not know stays as it is, its amount reserved."""
    provider = payout_provider(services, payout.method)
    if provider is None:
        return "not_queried"
    try:
        await provider.request_status(str(payout.id))
    except VendorRejected:
        # M-Pesa has no record of it (yet). It is never failed on that alone: a B2C request M-Pesa processed late
        # would then be paid a second time by the next payout. Its amount stays reserved until a Result or a status
        # Result settles it; long unknown, it is reported for the finance team once per report_unknown_after_s.
        report_every = timedelta(seconds=services.settings.payouts.report_unknown_after_s)
        last_reported = payout.status_queried_at or payout.updated_at
        if payout.updated_at <= now - report_every and last_reported <= now - report_every:
            log.error(UNKNOWN_LONG, payout_id=str(payout.id), user_id=payout.user_id, amount_minor=payout.amount_minor)
            await payout.note_status_query(now)
            return "reported_unknown"
        return "unknown_yet"
    except ProviderError as error:
        log.warning("payout status query failed", payout_id=str(payout.id), error=str(error))
        return "not_queried"
    await payout.note_status_query(now)
    return "queried"
