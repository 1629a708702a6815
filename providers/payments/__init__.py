"""Payment vendors behind one contract, starting with M-Pesa."""

from providers.payments.base import (
    Initiation,
    NormalizedPaymentEvent,
    PaymentOutcome,
    PaymentProvider,
    PaymentRequest,
    RefundResult,
)
from providers.payments.mpesa import MpesaConfig, MpesaProvider, normalise_msisdn

__all__ = [
    "Initiation",
    "MpesaConfig",
    "MpesaProvider",
    "NormalizedPaymentEvent",
    "PaymentOutcome",
    "PaymentProvider",
    "PaymentRequest",
    "RefundResult",
    "normalise_msisdn",
]
