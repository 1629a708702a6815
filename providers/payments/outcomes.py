"""Tables from each vendor's result codes and statuses to the project's outcomes and payer-facing reasons."""

import logging
from collections.abc import Mapping
from typing import NamedTuple, TypeVar

from providers.payments.base import PaymentOutcome

logger = logging.getLogger(__name__)

Code = TypeVar("Code", int, str)


class Verdict(NamedTuple):
    outcome: PaymentOutcome
    reason: str


_TRY_AGAIN = "M-Pesa could not complete the payment. Please try again in a moment."

MPESA_RESULT_CODES: Mapping[int, Verdict] = {
    0: Verdict(PaymentOutcome.SUCCEEDED, "Payment received. Thank you."),
    1: Verdict(
        PaymentOutcome.FAILED,
        "Your M-Pesa balance is not enough for this payment. Top up and try again.",
    ),
    17: Verdict(PaymentOutcome.FAILED, _TRY_AGAIN),
    26: Verdict(PaymentOutcome.FAILED, "M-Pesa is busy right now. Please try again in a moment."),
    1001: Verdict(
        PaymentOutcome.FAILED,
        "Another M-Pesa transaction is in progress on your phone. Finish it, then try again.",
    ),
    1019: Verdict(PaymentOutcome.EXPIRED, "The payment request expired before it was approved. Please try again."),
    1025: Verdict(PaymentOutcome.FAILED, _TRY_AGAIN),
    1032: Verdict(PaymentOutcome.CANCELLED, "You cancelled the payment on your phone."),
    1037: Verdict(
        PaymentOutcome.FAILED,
        "We could not reach your phone. Make sure it is on and has network, then try again.",
    ),
    2001: Verdict(PaymentOutcome.FAILED, "The M-Pesa PIN entered was wrong. Please try again."),
    9999: Verdict(PaymentOutcome.FAILED, _TRY_AGAIN),
}

MPESA_PENDING = Verdict(PaymentOutcome.PENDING, "Waiting for you to approve the payment on your phone.")

REFUNDED = Verdict(PaymentOutcome.REFUNDED, "Your payment was refunded.")
PARTIALLY_REFUNDED = Verdict(PaymentOutcome.PARTIALLY_REFUNDED, "Part of your payment was refunded.")

STRIPE_INTENT_STATUSES: Mapping[str, Verdict] = {
    "requires_payment_method": Verdict(PaymentOutcome.PENDING, "Waiting for your card details."),
    "requires_confirmation": Verdict(PaymentOutcome.PENDING, "Waiting for you to confirm the payment."),
    "requires_action": Verdict(PaymentOutcome.PENDING, "Your bank needs you to approve the payment."),
    "processing": Verdict(PaymentOutcome.PENDING, "Your payment is being processed."),
    "requires_capture": Verdict(PaymentOutcome.PENDING, "Your payment is authorised and being completed."),
    "succeeded": Verdict(PaymentOutcome.SUCCEEDED, "Payment received. Thank you."),
    "canceled": Verdict(PaymentOutcome.CANCELLED, "The payment was cancelled."),
}

STRIPE_EVENT_TYPES: Mapping[str, Verdict] = {
    "payment_intent.created": STRIPE_INTENT_STATUSES["requires_payment_method"],
    "payment_intent.processing": STRIPE_INTENT_STATUSES["processing"],
    "payment_intent.requires_action": STRIPE_INTENT_STATUSES["requires_action"],
    "payment_intent.amount_capturable_updated": STRIPE_INTENT_STATUSES["requires_capture"],
    "payment_intent.succeeded": STRIPE_INTENT_STATUSES["succeeded"],
    "payment_intent.canceled": STRIPE_INTENT_STATUSES["canceled"],
    "payment_intent.payment_failed": Verdict(
        PaymentOutcome.FAILED, "Your card was declined. Try another card or payment method."
    ),
    "charge.refunded": REFUNDED,
}

STRIPE_DECLINE_REASONS: Mapping[str, str] = {
    "insufficient_funds": "Your card has insufficient funds. Try another card.",
    "expired_card": "Your card has expired. Try another card.",
    "incorrect_cvc": "The card's security code is incorrect.",
    "incorrect_number": "The card number is incorrect.",
    "lost_card": "Your card was declined. Try another card.",
    "stolen_card": "Your card was declined. Try another card.",
    "authentication_required": "Your bank asked for authentication that was not completed. Try again.",
    "payment_intent_authentication_failure": "Your bank could not confirm it was you (3-D Secure). Try again or use "
    "another card.",
    "processing_error": "An error occurred while processing your card. Please try again.",
}

STRIPE_REFUND_STATUSES: Mapping[str, PaymentOutcome] = {
    "pending": PaymentOutcome.PENDING,
    "requires_action": PaymentOutcome.PENDING,
    "succeeded": PaymentOutcome.REFUNDED,
    "failed": PaymentOutcome.FAILED,
    "canceled": PaymentOutcome.FAILED,
}

PAYPAL_ORDER_STATUSES: Mapping[str, Verdict] = {
    "CREATED": Verdict(PaymentOutcome.PENDING, "Waiting for you to approve the payment at PayPal."),
    "SAVED": Verdict(PaymentOutcome.PENDING, "Waiting for you to approve the payment at PayPal."),
    "PAYER_ACTION_REQUIRED": Verdict(PaymentOutcome.PENDING, "Waiting for you to approve the payment at PayPal."),
    "APPROVED": Verdict(PaymentOutcome.PENDING, "You approved the payment; it is being completed."),
    "VOIDED": Verdict(PaymentOutcome.CANCELLED, "The PayPal payment was cancelled."),
}

PAYPAL_CAPTURE_STATUSES: Mapping[str, Verdict] = {
    "COMPLETED": Verdict(PaymentOutcome.SUCCEEDED, "Payment received. Thank you."),
    "PENDING": Verdict(PaymentOutcome.PENDING, "PayPal is still processing your payment."),
    "DECLINED": Verdict(PaymentOutcome.FAILED, "PayPal declined the payment. Try another payment method."),
    "FAILED": Verdict(PaymentOutcome.FAILED, "The PayPal payment failed. Please try again."),
    "REFUNDED": REFUNDED,
    "PARTIALLY_REFUNDED": PARTIALLY_REFUNDED,
}

PAYPAL_EVENT_TYPES: Mapping[str, Verdict] = {
    "CHECKOUT.ORDER.APPROVED": PAYPAL_ORDER_STATUSES["APPROVED"],
    "CHECKOUT.ORDER.VOIDED": PAYPAL_ORDER_STATUSES["VOIDED"],
    "PAYMENT.CAPTURE.COMPLETED": PAYPAL_CAPTURE_STATUSES["COMPLETED"],
    "PAYMENT.CAPTURE.PENDING": PAYPAL_CAPTURE_STATUSES["PENDING"],
    "PAYMENT.CAPTURE.DECLINED": PAYPAL_CAPTURE_STATUSES["DECLINED"],
    "PAYMENT.CAPTURE.REFUNDED": PAYPAL_CAPTURE_STATUSES["REFUNDED"],
}

PAYPAL_REFUND_STATUSES: Mapping[str, PaymentOutcome] = {
    "COMPLETED": PaymentOutcome.REFUNDED,
    "PENDING": PaymentOutcome.PENDING,
    "FAILED": PaymentOutcome.FAILED,
    "CANCELLED": PaymentOutcome.FAILED,
}

UNKNOWN = Verdict(
    PaymentOutcome.UNKNOWN, "We could not confirm the payment yet. We will update you as soon as we know."
)


def classify(table: Mapping[Code, Verdict], code: Code, *, vendor: str) -> Verdict:
    """Look a vendor code up; an unmapped one is logged and becomes `unknown` rather than an error."""
    verdict = table.get(code)
    if verdict is None:
        logger.warning("unmapped payment code", extra={"vendor": vendor, "vendor_code": code})
        return UNKNOWN
    return verdict
