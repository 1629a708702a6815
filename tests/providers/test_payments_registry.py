"""Picking a payment adapter by its configured name, and refusing bad settings at start-up."""

from collections.abc import AsyncIterator

import httpx
import pytest

from providers.errors import ProviderMisconfigured
from providers.payments import MpesaProvider, PaypalProvider, StripeProvider, create_payment_provider
from tests.providers.payment_harness import vendor_http_client

MPESA_OPTIONS = {
    "consumer_key": "key",
    "consumer_secret": "top-secret-consumer",
    "passkey": "passkey",
    "shortcode": "174379",
    "callback_url": "https://api.lango.example/webhooks/mpesa",
    "callback_token": "0123456789abcdef0123",
}
STRIPE_OPTIONS = {"api_key": "sk_test_x", "webhook_secret": "whsec_x"}
PAYPAL_OPTIONS = {
    "client_id": "client",
    "client_secret": "secret",
    "webhook_id": "1JE4291016473214C",
    "kes_per_usd": "129.50",
    "return_url": "https://app.lango.example/paypal/return",
    "cancel_url": "https://app.lango.example/paypal/cancel",
}


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with vendor_http_client() as client:
        yield client


@pytest.mark.parametrize(
    ("name", "options", "adapter"),
    [
        ("mpesa", MPESA_OPTIONS, MpesaProvider),
        ("stripe", STRIPE_OPTIONS, StripeProvider),
        ("paypal", PAYPAL_OPTIONS, PaypalProvider),
    ],
)
async def test_configured_name_picks_the_adapter(http, name, options, adapter):
    provider = create_payment_provider(name, options, http=http)
    assert isinstance(provider, adapter)
    assert provider.name == name


async def test_unknown_provider_name_is_a_misconfiguration(http):
    with pytest.raises(ProviderMisconfigured, match="mpesa, stripe, paypal"):
        create_payment_provider("cash", {}, http=http)


async def test_bad_settings_name_the_key_without_echoing_secrets(http):
    options = {**MPESA_OPTIONS, "shortcode": "17", "callback_token": "short"}
    with pytest.raises(ProviderMisconfigured) as raised:
        create_payment_provider("mpesa", options, http=http)
    message = str(raised.value)
    assert "payments.mpesa.shortcode" in message and "payments.mpesa.callback_token" in message
    assert "top-secret-consumer" not in message


async def test_exchange_rate_must_be_a_positive_decimal(http):
    for rate in ("0", "-1", "abc", "129.123456"):
        with pytest.raises(ProviderMisconfigured, match="kes_per_usd"):
            create_payment_provider("paypal", {**PAYPAL_OPTIONS, "kes_per_usd": rate}, http=http)
