"""An admin returns all or part of a collected payment: recorded and sent through the one refund path every refund
takes (gateway.payments.refunds), once per idempotency key."""

from beanie import PydanticObjectId

from documents.audit import AuditEvent, AuditKind
from documents.payment import COLLECTED, Payment
from gateway.logs import get_logger
from gateway.payments.access import payment_for
from gateway.payments.refunds import request_refund
from gateway.problems import Conflict, Forbidden
from gateway.security.callers import Caller
from gateway.services import Services

log = get_logger("lango.payments")


class PaymentNotRefundable(Conflict):
    slug, title = "payment-not-refundable", "This payment cannot be refunded by that much"


async def refund_by_admin(
    services: Services, admin: Caller, payment_id: str, requested_minor: int | None, reason: str, key: str
) -> Payment:
    """Refund `requested_minor` of the price (None: all that is left); the same `key` again changes nothing and
    answers the payment with that refund. Never more than is left: a refund racing another one of the same payment is
    cut to what the other left (request_refund's own rule), or refused when nothing is left."""
    if not admin.is_admin:
        raise Forbidden("only admins refund payments")
    payment = await payment_for(admin, payment_id)
    refund_key = f"admin:{key}"
    if any(refund.key == refund_key for refund in payment.refunds):
        return payment
    left = payment.refundable_minor() if payment.status in COLLECTED else 0
    if left <= 0:
        raise PaymentNotRefundable(f"the payment is {payment.status}, with nothing left to refund")
    if requested_minor is not None and requested_minor > left:
        raise PaymentNotRefundable(f"at most {left} is left to refund")
    refunded = await request_refund(services, payment, requested_minor or left, reason, refund_key)
    if not any(refund.key == refund_key for refund in refunded.refunds):
        raise PaymentNotRefundable("another refund of this payment came first: look again")
    [recorded] = [refund for refund in refunded.refunds if refund.key == refund_key]
    # Kept with the payer's account: who returned their money, how much and why.
    await AuditEvent.record(
        AuditKind.PAYMENT_REFUNDED_BY_ADMIN, user_id=PydanticObjectId(payment.user_id), actor_id=PydanticObjectId(admin.user_id),
        payment_id=payment_id, requested_minor=recorded.requested_minor, currency=payment.requested_currency, reason=reason,
    )  # fmt: skip
    log.info(
        "refund asked by an admin", payment_id=payment_id, requested_minor=recorded.requested_minor, admin=admin.user_id
    )
    return refunded
