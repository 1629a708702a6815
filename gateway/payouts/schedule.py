"""The payout job: pays out what became payable, sends again what Daraja never acknowledged, asks M-Pesa about
payouts whose Result is late or timed out, and gives up on those it never heard of."""

from datetime import datetime, timedelta
from typing import Any

from documents.payout import Payout, PayoutStatus
from documents.payout_destination import PayoutDestination
from gateway.jobs import every
from gateway.logs import get_logger
from gateway.payouts.paying import fail_payout, payout_provider, send_payout, start_payout
from gateway.redis_client import redis_key
from gateway.services import Services
from providers.errors import ProviderError, VendorRejected

log = get_logger("lango.payouts")
GAVE_UP = "M-Pesa has no record of this payout; its amount will be paid again."


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
    done = {"started": 0, "resent": 0, "queried": 0, "given_up": 0}
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
    """A transaction status query for the payout; its Result comes to the status route. One M-Pesa does not know
    is given up on once it timed out give_up_after_s ago."""
    provider = payout_provider(services, payout.method)
    if provider is None:
        return "not_queried"
    try:
        await provider.request_status(str(payout.id))
    except VendorRejected:
        give_up = now - timedelta(seconds=services.settings.payouts.give_up_after_s)
        if payout.status == PayoutStatus.TIMED_OUT and payout.updated_at <= give_up:
            await fail_payout(services, payout, None, GAVE_UP, now)
            return "given_up"
        return "unknown_yet"
    except ProviderError as error:
        log.warning("payout status query failed", payout_id=str(payout.id), error=str(error))
        return "not_queried"
    await payout.note_status_query(now)
    return "queried"
