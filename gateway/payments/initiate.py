"""Starting a payment: the amount from the target's frozen price, saved before the vendor is asked, idempotent per key."""

from typing import Annotated, Literal

from pydantic import Field
from pymongo.errors import DuplicateKeyError

from documents.payment import Payment, PaymentPurpose, PaymentStateConflict, PaymentStatus
from gateway.idempotency import IdempotencyKeyReused, request_fingerprint
from gateway.logs import get_logger
from gateway.payments.problems import PaymentDetailsInvalid, PaymentInProgress, PaymentMethodUnavailable
from gateway.payments.purposes import purpose_handler
from gateway.payments.push_limits import count_stk_push
from gateway.payments.settle import close_payment_unpaid
from gateway.payments.views import publish_payment_updated
from gateway.request_models import RequestModel
from gateway.security.callers import Caller
from gateway.services import Services
from gateway.vendors.payments import PaymentVendors
from providers.errors import ProviderError, VendorRejected
from providers.payments import Initiation, PaymentProvider, PaymentRequest, normalise_msisdn

log = get_logger("lango.payments")
VENDOR_UNREACHABLE = "We could not reach the payment provider. Nothing was charged; please try again."


class PaymentBody(RequestModel):
    purpose: PaymentPurpose = PaymentPurpose.BOOKING
    target_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="the booking or ticket order id")]
    method: Literal["mpesa", "stripe", "paypal"]
    phone: Annotated[str, Field(max_length=20, description="the M-Pesa number to push to; M-Pesa only")] | None = None


async def start_payment(
    services: Services, caller: Caller, body: PaymentBody, idempotency_key: str, *, client_address: str | None
) -> tuple[Payment, bool]:
    """The payment for this request and whether it was created now (False: answered before under this key)."""
    fingerprint = request_fingerprint(body)
    if earlier := await _earlier_payment(caller, idempotency_key, fingerprint):
        return earlier, False
    provider = _provider(services, body.method)
    phone = _payer_phone(body)
    target = await purpose_handler(services, body.purpose).payable(services, caller, body.target_id)
    payment = Payment(
        user_id=caller.user_id,
        purpose=body.purpose,
        target_id=body.target_id,
        active_key=Payment.active_key_for(body.purpose, body.target_id),
        provider=body.method,
        payer_phone=phone,
        description=target.description,
        requested_amount_minor=target.amount_minor,
        requested_currency=target.currency,
        payee_id=target.payee_id,
        platform_fee_minor=target.platform_fee_minor,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
    )
    try:
        # Saved before the vendor hears of it: M-Pesa has no idempotency key, so a push is sent at most once per row.
        await payment.insert()
    except DuplicateKeyError:
        if earlier := await _earlier_payment(caller, idempotency_key, fingerprint):
            return earlier, False
        live = await Payment.find_one({"active_key": payment.active_key})
        raise PaymentInProgress(
            "this booking or order already has a payment under way or made", payment_id=str(live.id) if live else None
        ) from None
    if phone is not None:
        await count_stk_push(services.limits, payment, phone=phone, user_id=caller.user_id, client_address=client_address)
    return await _send_to_vendor(services, provider, payment, phone), True


async def _earlier_payment(caller: Caller, idempotency_key: str, fingerprint: str) -> Payment | None:
    earlier = await Payment.find_one({"user_id": caller.user_id, "idempotency_key": idempotency_key})
    if earlier is not None and earlier.request_hash != fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was sent with a different body; use a new key")
    return earlier


def _provider(services: Services, method: str) -> PaymentProvider:
    vendors: PaymentVendors = services.payments
    if method not in services.settings.payments.methods:
        raise PaymentMethodUnavailable(f"{method} is not offered")
    provider = vendors.providers.get(method)
    if provider is None:
        raise PaymentMethodUnavailable(vendors.unavailable.get(method, f"{method} is not available"))
    return provider


def _payer_phone(body: PaymentBody) -> str | None:
    if body.method != "mpesa":
        return None
    try:
        return normalise_msisdn(body.phone)
    except VendorRejected as error:
        raise PaymentDetailsInvalid(
            errors=[{"field": "body.phone", "message": str(error), "code": "mpesa_phone"}]
        ) from None


async def _send_to_vendor(services: Services, provider: PaymentProvider, payment: Payment, phone: str | None) -> Payment:
    request = PaymentRequest(
        merchant_reference=str(payment.id),
        amount_minor=payment.requested_amount_minor,
        currency=payment.requested_currency,
        description=payment.description,
        idempotency_key=f"payment-{payment.id}",
        phone=phone,
        metadata={"purpose": payment.purpose.value, "target_id": payment.target_id},
    )
    try:
        initiation = await provider.initiate(request)
    except VendorRejected as error:
        return await _failed(services, payment, str(error))
    except ProviderError as error:
        log.warning("payment not started: vendor unavailable", payment_id=str(payment.id), error=str(error))
        return await _failed(services, payment, VENDOR_UNREACHABLE)
    return await _mark_pending(services, payment, initiation)


async def _failed(services: Services, payment: Payment, reason: str) -> Payment:
    closed = await close_payment_unpaid(services, payment, PaymentStatus.FAILED, reason)
    return closed or await Payment.get(payment.id) or payment


async def _mark_pending(services: Services, payment: Payment, initiation: Initiation) -> Payment:
    try:
        pending = await payment.mark_pending(
            provider_reference=initiation.reference,
            charged_amount_minor=initiation.charged_amount_minor,
            charged_currency=initiation.charged_currency,
            client_secret=initiation.client_secret,
            approve_url=initiation.approve_url,
            confirm_url=initiation.confirm_url,
            customer_message=initiation.customer_message,
            reason=initiation.customer_message or "Waiting for you to complete the payment.",
        )
    except PaymentStateConflict:
        # A vendor statement settled it in the meantime; what it says stands.
        return await Payment.get(payment.id) or payment
    await publish_payment_updated(services, pending)
    return pending
