"""What a payment looks like to its payer: in answers and in the `payment.updated` events of every transition; and
what admins see of Paybill money that matched nothing."""

from datetime import datetime

from pydantic import BaseModel, Field

from documents.paybill import PaybillPayment, PaybillStatus
from documents.payment import Payment, PaymentPurpose, PaymentRefund, PaymentStatus, RefundStatus
from gateway.logs import get_logger
from gateway.messaging.bus import BusUnavailable, PushNotice
from gateway.messaging.catalogue import PAYMENT_UPDATED, REFUND_UPDATED
from gateway.messaging.targets import user_room
from gateway.services import Services

log = get_logger("lango.payments")
_PUSH_TITLES = {
    PaymentStatus.SUCCEEDED: "Payment received",
    PaymentStatus.FAILED: "Payment not completed",
    PaymentStatus.CANCELLED: "Payment cancelled",
    PaymentStatus.EXPIRED: "Payment expired",
    PaymentStatus.PARTIALLY_REFUNDED: "Refund sent",
    PaymentStatus.REFUNDED: "Refund sent",
}


class RefundView(BaseModel):
    requested_minor: int
    amount_minor: int | None
    status: RefundStatus
    reason: str
    note: str | None


class PaymentView(BaseModel):
    id: str
    purpose: PaymentPurpose
    target_id: str
    booking_id: str | None
    provider: str
    status: PaymentStatus
    reason: str | None
    amount_minor: int
    currency: str
    charged_amount_minor: int | None
    charged_currency: str | None
    refunded_minor: int
    refunds: list[RefundView]
    receipt: str | None
    client_secret: str | None
    approve_url: str | None
    confirm_url: str | None = Field(
        description="Cards in the sandbox: the card sandbox's page where the payer pays, declines or goes through "
        "3-D Secure in a browser (the payer only; an app with Stripe's SDK confirms with `client_secret` instead)"
    )
    customer_message: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, payment: Payment) -> "PaymentView":
        return cls(
            id=str(payment.id),
            purpose=payment.purpose,
            target_id=payment.target_id,
            booking_id=payment.target_id if payment.purpose == PaymentPurpose.BOOKING else None,
            provider=payment.provider,
            status=payment.status,
            reason=payment.reason,
            amount_minor=payment.requested_amount_minor,
            currency=payment.requested_currency,
            charged_amount_minor=payment.charged_amount_minor,
            charged_currency=payment.charged_currency,
            refunded_minor=payment.refunded_minor,
            refunds=[RefundView.model_validate(refund.model_dump()) for refund in payment.refunds],
            receipt=payment.receipt,
            client_secret=payment.client_secret,
            approve_url=payment.approve_url,
            confirm_url=payment.confirm_url,
            customer_message=payment.customer_message,
            created_at=payment.created_at,
            updated_at=payment.updated_at,
        )


def payment_event_data(payment: Payment) -> dict:
    """The `payment.updated` payload: the view without the client secret and the confirm URL (which carries it), which
    only the payer's own answers do."""
    return PaymentView.of(payment).model_dump(mode="json", exclude={"client_secret", "confirm_url"})


async def publish_payment_updated(services: Services, payment: Payment) -> None:
    """Called after the change is stored; the change stands even when Redis cannot take the event."""
    title = _PUSH_TITLES.get(payment.status)
    push = PushNotice(title=title, body=payment.reason or title) if title else None
    try:
        await services.bus.publish(
            user_room(payment.user_id),
            PAYMENT_UPDATED,
            payment_event_data(payment),
            collapse_key=f"payment:{payment.id}",
            push=push,
        )
    except BusUnavailable as error:
        log.warning("payment.updated not published", payment_id=str(payment.id), error=str(error))


class RefundUpdate(BaseModel):
    """The `refund.updated` payload: one refund of a payment, as it stands now."""

    payment_id: str
    purpose: PaymentPurpose
    target_id: str
    key: str
    status: RefundStatus
    requested_minor: int
    amount_minor: int | None
    currency: str | None
    reason: str
    note: str | None
    vendor_reference: str | None
    updated_at: datetime

    @classmethod
    def of(cls, payment: Payment, refund: PaymentRefund) -> "RefundUpdate":
        return cls(payment_id=str(payment.id), purpose=payment.purpose, target_id=payment.target_id,
                   currency=payment.charged_currency or payment.requested_currency,
                   **refund.model_dump(include={"key", "status", "requested_minor", "amount_minor", "reason", "note",
                                                "vendor_reference", "updated_at"}))  # fmt: skip


async def change_refund(services: Services, payment: Payment, key: str, status: RefundStatus, **fields: object) -> Payment:
    """Move one refund of the payment on (Payment.update_refund) and publish `refund.updated` when it changed."""
    updated = await payment.update_refund(key, status, **fields)
    refund = next((entry for entry in updated.refunds if entry.key == key), None)
    if updated is payment or refund is None:
        return updated
    try:
        await services.bus.publish(
            user_room(payment.user_id), REFUND_UPDATED, RefundUpdate.of(updated, refund).model_dump(mode="json"),
            collapse_key=f"refund:{payment.id}:{key}",
        )  # fmt: skip
    except BusUnavailable as error:
        log.warning("refund.updated not published", payment_id=str(payment.id), error=str(error))
    return updated


class PaybillPaymentView(BaseModel):
    id: str
    trans_id: str = Field(description="M-Pesa's transaction id (receipt)")
    amount_minor: int
    currency: str
    account_reference: str = Field(description="the account number the payer typed")
    msisdn: str
    payer_name: str
    paid_at: datetime | None
    status: PaybillStatus
    unmatched_reason: str | None
    purpose: PaymentPurpose | None
    target_id: str | None
    payment_id: str | None
    resolved_by: str | None
    resolution_note: str | None
    reversal_receipt: str | None
    created_at: datetime

    @classmethod
    def of(cls, received: PaybillPayment) -> "PaybillPaymentView":
        return cls(id=str(received.id), **received.model_dump(exclude={"id", "raw", "claimed_at", "updated_at",
                                                                        "reversal_conversation_id"}))  # fmt: skip


class UnmatchedPage(BaseModel):
    items: list[PaybillPaymentView]
    next_cursor: str | None
