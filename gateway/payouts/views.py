"""What a payout looks like to its owner: in answers, in `payout.updated` events, and in the notice once it is paid;
and to admins, who also see whom it pays."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from documents.notification import NotificationKind
from documents.payout import Payout, PayoutStatus
from gateway.jobs import JobPolicy, job
from gateway.logs import get_logger
from gateway.messaging.bus import BusUnavailable
from gateway.messaging.catalogue import PAYOUT_UPDATED
from gateway.messaging.targets import user_room
from gateway.notifications.dispatch import notify
from gateway.services import Services

log = get_logger("lango.payouts")


def masked_phone(phone: str) -> str:
    """An M-Pesa number as shown back: its country code and last three digits."""
    return phone[:4] + "*" * (len(phone) - 7) + phone[-3:]


class PayoutView(BaseModel):
    id: str
    amount_minor: int
    currency: str
    status: PayoutStatus
    phone: str
    receipt: str | None
    reason: str | None
    created_at: datetime
    updated_at: datetime
    settled_at: datetime | None

    @classmethod
    def of(cls, payout: Payout) -> "PayoutView":
        return cls(id=str(payout.id), phone=masked_phone(payout.phone), **payout.model_dump(
            include={"amount_minor", "currency", "status", "receipt", "reason", "created_at", "updated_at", "settled_at"}))  # fmt: skip


class PayoutPage(BaseModel):
    items: list[PayoutView]
    next_cursor: str | None


class AdminPayoutView(PayoutView):
    user_id: str = Field(description="the host or agent paid")
    send_attempts: int

    @classmethod
    def of(cls, payout: Payout) -> "AdminPayoutView":
        return cls(**PayoutView.of(payout).model_dump(), user_id=payout.user_id, send_attempts=payout.send_attempts)


class AdminPayoutPage(BaseModel):
    items: list[AdminPayoutView]
    next_cursor: str | None


async def publish_payout_updated(services: Services, payout: Payout) -> None:
    """Called after the change is stored; the change stands even when Redis cannot take the event."""
    try:
        await services.bus.publish(
            user_room(payout.user_id), PAYOUT_UPDATED, PayoutView.of(payout).model_dump(mode="json"),
            collapse_key=f"payout:{payout.id}",
        )  # fmt: skip
    except BusUnavailable as error:
        log.warning("payout.updated not published", payout_id=str(payout.id), error=str(error))


@job(JobPolicy(retries=5, retry_delay_s=2.0, timeout_s=60))
async def send_payout_notice(ctx: dict[str, Any], *, payout_id: str) -> bool:
    """The owner hears that their payout reached their phone, with M-Pesa's receipt."""
    services: Services = ctx["services"]
    payout = await Payout.by_id(payout_id)
    if payout is None or payout.status != PayoutStatus.PAID:
        return False
    await notify(
        services,
        payout.user_id,
        NotificationKind.PAYOUT_SENT,
        {"amount_minor": payout.amount_minor, "currency": payout.currency, "receipt_number": payout.receipt or "",
         "payout_phone": masked_phone(payout.phone), "paid_at": payout.settled_at},
        dedupe_key=f"{NotificationKind.PAYOUT_SENT}:{payout_id}",
        data={"payout_id": payout_id},
    )  # fmt: skip
    return True
