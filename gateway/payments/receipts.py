"""The payer's receipt once a payment succeeds: inbox, email, SMS and push as their preferences allow."""

from typing import Any

from beanie import PydanticObjectId

from documents.notification import NotificationKind
from documents.payment import Payment
from gateway.jobs import JobPolicy, job
from gateway.notifications.dispatch import notify
from gateway.services import Services

METHOD_NAMES = {"mpesa": "M-Pesa", "stripe": "Card", "paypal": "PayPal"}


@job(JobPolicy(retries=5, retry_delay_s=2.0, timeout_s=60))
async def send_payment_receipt(ctx: dict[str, Any], *, payment_id: str) -> bool:
    services: Services = ctx["services"]
    payment = await Payment.get(PydanticObjectId(payment_id))
    if payment is None or payment.settled_at is None:
        return False
    await notify(
        services,
        payment.user_id,
        NotificationKind.PAYMENT_RECEIPT,
        {
            "amount_minor": payment.requested_amount_minor,
            "currency": payment.requested_currency,
            "description": payment.description,
            "method": METHOD_NAMES.get(payment.provider, payment.provider),
            "receipt_number": payment.receipt or str(payment.id)[-8:].upper(),
            "paid_at": payment.settled_at,
        },
        dedupe_key=f"{NotificationKind.PAYMENT_RECEIPT}:{payment_id}",
        data={"payment_id": payment_id, "target_id": payment.target_id},
    )
    return True
