"""Payment vendors behind one contract: M-Pesa, Stripe and PayPal, each with the settings its adapter takes, and
each listing what moved through the merchant's account (StatementSource) for the daily reconciliation."""

from providers.payments.base import (
    Initiation,
    NormalizedPaymentEvent,
    PaymentOutcome,
    PaymentProvider,
    PaymentRequest,
    RefundResult,
)
from providers.payments.mpesa import SAFARICOM_CALLBACK_SOURCES, MpesaProvider, MpesaSettings, normalise_msisdn
from providers.payments.paypal import PaypalProvider, PaypalSettings, usd_cents_for_kes
from providers.payments.statements import MovementKind, StatementSource, VendorTransaction
from providers.payments.stripe import StripeProvider, StripeSettings

__all__ = [
    "SAFARICOM_CALLBACK_SOURCES",
    "Initiation",
    "MpesaProvider",
    "MovementKind",
    "MpesaSettings",
    "NormalizedPaymentEvent",
    "PaymentOutcome",
    "PaymentProvider",
    "PaymentRequest",
    "PaypalProvider",
    "PaypalSettings",
    "RefundResult",
    "StatementSource",
    "StripeProvider",
    "StripeSettings",
    "VendorTransaction",
    "normalise_msisdn",
    "usd_cents_for_kes",
]
