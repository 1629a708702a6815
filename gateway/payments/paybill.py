"""Paying a booking or ticket order on the M-Pesa Paybill (C2B) when the STK prompt failed or never came: the account
number a guest types, validation, and the confirmation that settles the target's payment exactly once or holds the
money unmatched."""

import secrets
from datetime import timedelta

from pydantic import BaseModel, Field
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from documents.paybill import PaybillPayment, PaybillReference
from documents.payment import OPEN, Payment, PaymentPurpose, PaymentStatus
from gateway.database import in_transaction
from gateway.ledger.suspense_entries import post_held_in_suspense
from gateway.logs import get_logger
from gateway.payments.purposes import PayableTarget, purpose_handler
from gateway.payments.settle import apply_recorded_event, close_payment_unpaid, record_vendor_event
from gateway.problems import Problem
from gateway.security.callers import Caller
from gateway.services import Services
from providers.payments import NormalizedPaymentEvent, PaymentOutcome
from providers.payments.mpesa_results import PaybillNotice

log = get_logger("lango.payments")
# Typed on a phone keypad and read aloud: no 0/O, 1/I/L or U.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH = 8
# A confirmation whose matching stopped half-way (the process died) is matched again by Safaricom's retry after this.
CLAIM_LEASE = timedelta(seconds=60)
PAID_ON_PAYBILL = "Paid on the M-Pesa Paybill."
SUPERSEDED = "Paid on the M-Pesa Paybill instead."
# Safaricom's C2B validation result codes.
ACCEPTED = "0"
INVALID_ACCOUNT = "C2B00012"
INVALID_AMOUNT = "C2B00013"
INVALID_SHORTCODE = "C2B00015"


class PaybillInstructions(BaseModel):
    """What a guest types on the phone's Pay Bill menu to pay a booking or order, should the STK prompt not come."""

    business_number: str = Field(description="the Paybill (business) number")
    account_number: str = Field(description="this booking's or order's account number on the Paybill")
    amount_minor: int = Field(description="the exact amount to pay; another amount is refused")
    currency: str


def _new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))


async def reference_for(purpose: PaymentPurpose, target_id: str, owner_id: str) -> PaybillReference:
    """The target's account number, made the first time it is asked for; a random one taken already is drawn again."""
    for _ in range(5):
        existing = await PaybillReference.find_one({"purpose": purpose.value, "target_id": target_id})
        if existing is not None:
            return existing
        try:
            return await PaybillReference(code=_new_code(), purpose=purpose, target_id=target_id, owner_id=owner_id).insert()
        except DuplicateKeyError:
            continue
    raise RuntimeError("no free Paybill account number after five draws")


async def paybill_instructions(
    services: Services, purpose: PaymentPurpose, target_id: str, owner_id: str, amount_minor: int, currency: str
) -> PaybillInstructions | None:
    """How to pay this target on the Paybill; None when M-Pesa is not offered or the price is not in KES."""
    if currency != "KES" or "mpesa" not in services.settings.payments.methods or services.payments.mpesa is None:
        return None
    reference = await reference_for(purpose, target_id, owner_id)
    shortcode = services.settings.payments.mpesa.shortcode or _sandbox_shortcode(services)
    return PaybillInstructions(
        business_number=shortcode, account_number=reference.code, amount_minor=amount_minor, currency=currency
    )


def _sandbox_shortcode(services: Services) -> str:
    daraja = services.payments.sandbox.daraja
    return daraja.settings.shortcode if daraja is not None else ""


async def _payable(services: Services, reference: PaybillReference) -> PayableTarget | None:
    """What the target of an account number owes now, by the purpose's own rules; None when it owes nothing."""
    owner = Caller(user_id=reference.owner_id, roles=frozenset(), session_id="paybill")
    try:
        return await purpose_handler(services, reference.purpose).payable(services, owner, reference.target_id)
    except Problem:
        return None


async def validate_paybill(services: Services, notice: PaybillNotice) -> str:
    """Safaricom's validation: "0" to take the money, else the C2B result code that refuses it."""
    if notice.shortcode != _collecting_shortcode(services):
        return INVALID_SHORTCODE
    reference = await PaybillReference.find_one({"code": notice.account_reference})
    target = await _payable(services, reference) if reference is not None else None
    if target is None:
        return INVALID_ACCOUNT
    if (target.amount_minor, target.currency) != (notice.amount_minor, "KES"):
        return INVALID_AMOUNT
    return ACCEPTED


def _collecting_shortcode(services: Services) -> str:
    return services.settings.payments.mpesa.shortcode or _sandbox_shortcode(services)


async def confirm_paybill(services: Services, notice: PaybillNotice) -> PaybillPayment:
    """Record a confirmed Paybill payment once per TransID and match it: it settles its target's payment, or is held
    unmatched. A repeat confirmation changes nothing, unless the first one's matching stopped half-way."""
    received = PaybillPayment(
        trans_id=notice.trans_id,
        amount_minor=notice.amount_minor,
        account_reference=notice.account_reference,
        msisdn=notice.msisdn,
        payer_name=notice.payer_name,
        paid_at=notice.paid_at,
        claimed_at=services.clock(),
        raw=notice.raw,
    )
    try:
        await received.insert()
    except DuplicateKeyError:
        earlier = await PaybillPayment.find_one({"trans_id": notice.trans_id})
        if earlier is None:
            raise
        claimed = await earlier.claim(services.clock(), CLAIM_LEASE)
        if claimed is None:
            return earlier
        received = claimed
    reference = await PaybillReference.find_one({"code": received.account_reference})
    if reference is None:
        return await hold_unmatched(services, received, "unknown_reference")
    return await settle_on_target(services, received, reference)


async def settle_on_target(services: Services, received: PaybillPayment, reference: PaybillReference, **resolution: str) -> PaybillPayment:
    """Pay `reference`'s target with a claimed Paybill payment, through the payments state machine; held unmatched
    when the target owes nothing now or another amount."""
    target = await _payable(services, reference)
    if target is None:
        return await hold_unmatched(services, received, "not_payable")
    if (target.amount_minor, target.currency) != (received.amount_minor, received.currency):
        return await hold_unmatched(services, received, "amount_differs")
    payment = await _paybill_payment(services, received, reference, target)
    if payment is None:
        return await hold_unmatched(services, received, "already_paid")
    # Stored before the payment is moved: were the process to stop, the reconciliation job applies it.
    statement, _ = await record_vendor_event(_statement(received, payment), "paybill")
    if statement.applied_at is None:
        await apply_recorded_event(services, statement)
    return await received.settle(reference.purpose, reference.target_id, str(payment.id), **resolution)


async def hold_unmatched(services: Services, received: PaybillPayment, reason: str) -> PaybillPayment:
    """Money that pays for nothing: held for an admin to assign or return, and posted to the ledger's suspense in the
    same transaction (once per TransID, however often it is held)."""

    async def hold(session: AsyncClientSession) -> PaybillPayment:
        held = await received.hold_unmatched(reason, session)
        await post_held_in_suspense(session, held)
        return held

    log.warning("Paybill payment matches nothing", trans_id=received.trans_id, reason=reason)
    return await in_transaction(services, hold)


async def _paybill_payment(
    services: Services, received: PaybillPayment, reference: PaybillReference, target: PayableTarget
) -> Payment | None:
    """The target's payment for this Paybill money, made now or found (a retry); an open STK or card payment of the
    target is cancelled first. None when the target was paid by another payment meanwhile."""
    for _ in range(3):
        found = await Payment.find_one({"provider": "mpesa", "provider_reference": received.trans_id})
        if found is not None:
            return found
        payment = Payment(
            user_id=target.owner_id,
            purpose=reference.purpose,
            target_id=reference.target_id,
            active_key=Payment.active_key_for(reference.purpose, reference.target_id),
            provider="mpesa",
            payer_phone=received.msisdn,
            description=target.description,
            requested_amount_minor=received.amount_minor,
            requested_currency=received.currency,
            charged_amount_minor=received.amount_minor,
            charged_currency=received.currency,
            payee_id=target.payee_id,
            platform_fee_minor=target.platform_fee_minor,
            provider_reference=received.trans_id,
            reason=PAID_ON_PAYBILL,
        )
        try:
            return await payment.insert()
        except DuplicateKeyError:
            live = await Payment.find_one({"active_key": payment.active_key})
            if live is None:
                continue
            if live.status not in OPEN:
                return None
            # The prompt the guest gave up on: closed, so this payment may hold the target. Should it be paid after
            # all, the purpose returns that money as it does for any payment of a target no longer waiting.
            await close_payment_unpaid(services, live, PaymentStatus.CANCELLED, SUPERSEDED)
    return None


def _statement(received: PaybillPayment, payment: Payment) -> NormalizedPaymentEvent:
    return NormalizedPaymentEvent(
        provider="mpesa",
        reference=received.trans_id,
        outcome=PaymentOutcome.SUCCEEDED,
        reason=PAID_ON_PAYBILL,
        dedupe_key=f"mpesa:paybill:{received.trans_id}",
        amount_minor=received.amount_minor,
        currency=received.currency,
        receipt=received.trans_id,
        vendor_code="0",
        merchant_reference=str(payment.id),
        occurred_at=received.paid_at,
        payer_phone=payment.payer_phone,
        unsigned=True,
        raw=received.raw,
    )

