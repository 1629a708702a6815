"""Payment vendors behind one contract: M-Pesa and Stripe so far."""

from providers.payments.base import (
    Initiation,
    NormalizedPaymentEvent,
    PaymentOutcome,
    PaymentProvider,
    PaymentRequest,
    RefundResult,
)
from providers.payments.mpesa import MpesaConfig, MpesaProvider, normalise_msisdn
from providers.payments.stripe import StripeConfig, StripeProvider

__all__ = [
    "Initiation",
    "MpesaConfig",
    "MpesaProvider",
    "NormalizedPaymentEvent",
    "PaymentOutcome",
    "PaymentProvider",
    "PaymentRequest",
    "RefundResult",
    "StripeConfig",
    "StripeProvider",
    "normalise_msisdn",
]
