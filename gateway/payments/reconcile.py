"""Catching up with vendors: status queries for payments no callback settled, expiry, stranded statements, refund retries."""

from datetime import UTC, datetime, timedelta
from typing import Any

from documents.payment import Payment, PaymentStatus
from documents.payment_event import PaymentEvent
from gateway.jobs import every
from gateway.logs import get_logger
from gateway.payments.mpesa_status_queries import ask_about_mpesa_money_sent_back
from gateway.payments.purposes import purpose_handler
from gateway.payments.refunds import retry_requested_refunds
from gateway.payments.settle import apply_recorded_event, apply_vendor_event, close_payment_unpaid
from gateway.redis_client import redis_key
from gateway.services import Services
from gateway.vendors.payments import PaymentVendors
from providers.errors import ProviderError

log = get_logger("lango.payments")
NEVER_STARTED = "The payment could not be started. Nothing was charged; please try again."
HOLD_LAPSED = "The booking or order was released before the payment completed. Nothing was charged."
# A statement is retried this long after it arrived (its payment may not be saved yet), then left for a person.
STRANDED_RETRY = timedelta(days=1)
STRANDED_GRACE = timedelta(seconds=30)


@every("* * * * *")
async def reconcile_payments(ctx: dict[str, Any]) -> dict[str, int]:
    """Every minute (at most once per payments.reconcile_interval_s across workers): settle what vendors left open."""
    services: Services = ctx["services"]
    settings = services.settings
    claimed = await services.redis.set(
        redis_key(settings.redis, "payments", "reconcile"), "1", nx=True, ex=settings.payments.reconcile_interval_s
    )
    if not claimed:
        return {}
    return await reconcile_now(services)


async def reconcile_now(services: Services, now: datetime | None = None) -> dict[str, int]:
    now = now or datetime.now(UTC)
    limit = services.settings.payments.reconcile_batch
    done = {
        "queried": await query_stale_payments(services, now, limit),
        "expired": await expire_abandoned_payments(services, now, limit),
        "reapplied": await apply_stranded_statements(services, now, limit),
        "refunds_sent": await retry_requested_refunds(services, limit),
        "sent_back_queried": await ask_about_mpesa_money_sent_back(services, now, limit),
    }
    if any(done.values()):
        log.info("payments reconciled", **done)
    return done


async def query_stale_payments(services: Services, now: datetime, limit: int) -> int:
    """Ask Daraja about M-Pesa payments pending longer than payments.reconcile_after_s; close pushes never sent."""
    cutoff = now - timedelta(seconds=services.settings.payments.reconcile_after_s)
    queried = 0
    async for payment in Payment.find({"status": PaymentStatus.PENDING.value, "provider": "mpesa", "created_at": {"$lte": cutoff}}).limit(limit):
        queried += await settle_from_vendor(services, payment)
    async for payment in Payment.find({"status": PaymentStatus.CREATED.value, "created_at": {"$lte": cutoff}}).limit(limit):
        # Saved but never accepted by the vendor (the process stopped mid-request): no reference to ask about.
        await close_payment_unpaid(services, payment, PaymentStatus.FAILED, NEVER_STARTED)
    return queried


async def expire_abandoned_payments(services: Services, now: datetime, limit: int) -> int:
    """Open payments whose booking or order no longer waits for them: asked about once more, then expired."""
    expired = 0
    async for payment in Payment.find({"status": PaymentStatus.PENDING.value}).limit(limit):
        if await purpose_handler(services, payment.purpose).still_payable(services, payment):
            continue
        await settle_from_vendor(services, payment)
        current = await Payment.get(payment.id)
        if current is not None and current.status == PaymentStatus.PENDING:
            expired += await close_payment_unpaid(services, current, PaymentStatus.EXPIRED, HOLD_LAPSED) is not None
    return expired


async def apply_stranded_statements(services: Services, now: datetime, limit: int) -> int:
    """Stored vendor statements not applied yet (their payment was unknown, or applying was interrupted)."""
    applied = 0
    stranded = {"applied_at": None, "received_at": {"$lte": now - STRANDED_GRACE}}
    async for stored in PaymentEvent.find(stranded).limit(limit):
        if await apply_recorded_event(services, stored) is not None:
            applied += 1
        elif stored.received_at <= now - STRANDED_RETRY:
            log.error("vendor statement for an unknown payment given up", event_id=str(stored.id), reference=stored.reference)
            await stored.mark_applied(None, "unknown_payment")
    return applied


async def settle_from_vendor(services: Services, payment: Payment) -> int:
    """Ask the vendor where an open payment stands and apply the answer; 1 when it answered."""
    vendors: PaymentVendors = services.payments
    provider = vendors.providers.get(payment.provider)
    if provider is None or payment.provider_reference is None:
        return 0
    try:
        event = await provider.query_status(payment.provider_reference)
    except ProviderError as error:
        log.warning("payment status query failed", payment_id=str(payment.id), error=str(error))
        return 0
    await apply_vendor_event(services, event, "status_query")
    return 1
