"""Payment vendors behind one contract (M-Pesa, Stripe, PayPal) and the registry that picks one by name."""

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel

from providers.payments.base import (
    Initiation,
    NormalizedPaymentEvent,
    PaymentOutcome,
    PaymentProvider,
    PaymentRequest,
    RefundResult,
)
from providers.payments.mpesa import MpesaConfig, MpesaProvider, normalise_msisdn
from providers.payments.paypal import PaypalConfig, PaypalProvider, usd_cents_for_kes
from providers.payments.stripe import StripeConfig, StripeProvider
from providers.registry import AdapterResources, AdapterSpec, build_adapter

PAYMENT_PROVIDERS: Mapping[str, AdapterSpec[PaymentProvider]] = {
    "mpesa": AdapterSpec(MpesaConfig, lambda config, res: MpesaProvider(config, res.require_http("payments.mpesa"))),
    "stripe": AdapterSpec(
        StripeConfig, lambda config, res: StripeProvider(config, res.require_http("payments.stripe"))
    ),
    "paypal": AdapterSpec(
        PaypalConfig, lambda config, res: PaypalProvider(config, res.require_http("payments.paypal"))
    ),
}


def create_payment_provider(
    name: str, options: Mapping[str, Any] | BaseModel, *, http: httpx.AsyncClient
) -> PaymentProvider:
    """The payment adapter configured as `name` (mpesa, stripe, paypal), sending through the shared `http`."""
    return build_adapter("payments", PAYMENT_PROVIDERS, name, options, AdapterResources(http=http))


__all__ = [
    "PAYMENT_PROVIDERS",
    "Initiation",
    "MpesaConfig",
    "MpesaProvider",
    "NormalizedPaymentEvent",
    "PaymentOutcome",
    "PaymentProvider",
    "PaymentRequest",
    "PaypalConfig",
    "PaypalProvider",
    "RefundResult",
    "StripeConfig",
    "StripeProvider",
    "create_payment_provider",
    "normalise_msisdn",
    "usd_cents_for_kes",
]
