"""The payment adapters a process holds: each method's own adapter when its credentials are set, none without them
outside sandbox mode."""

import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.vendors.payments import payment_vendors
from providers.payments import MpesaProvider, PaypalProvider, StripeProvider
from tests.conftest import make_settings

CALLBACK_TOKEN = "0123456789abcdef0123"


@pytest.fixture
def nowhere() -> str:
    """A loopback URL nothing listens on: M-Pesa's start-up token fetch fails at once, and is only logged."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def test_configured_credentials_pick_each_methods_adapter(
    mongodb_url: str, redis_url: str, nowhere: str, http: httpx.AsyncClient
) -> None:
    mpesa = {"base_url": nowhere, "consumer_key": "key", "consumer_secret": "secret", "passkey": "passkey",
             "shortcode": "174379", "callback_token": CALLBACK_TOKEN}  # fmt: skip
    stripe = {"api_key": "sk_test_x", "webhook_secret": "whsec_x"}
    paypal = {"client_id": "client", "client_secret": "secret", "webhook_id": "1JE4291016473214C"}
    settings = make_settings(
        mongodb_url, redis_url, sandbox=False, payments={"mpesa": mpesa, "stripe": stripe, "paypal": paypal}
    )
    async with payment_vendors(settings, http) as vendors:
        adapters = {method: type(provider) for method, provider in vendors.providers.items()}
        assert adapters == {"mpesa": MpesaProvider, "stripe": StripeProvider, "paypal": PaypalProvider}
        assert all(provider.name == method for method, provider in vendors.providers.items())
        mpesa_callback = f"{settings.server.public_url}/webhooks/mpesa/{CALLBACK_TOKEN}"
        assert vendors.providers["mpesa"].callback_url == mpesa_callback
        assert (vendors.unavailable, vendors.mpesa_callback_token) == ({}, CALLBACK_TOKEN)
        assert (vendors.sandbox.daraja, vendors.sandbox.stripe, vendors.sandbox.paypal) == (None, None, None)


async def test_without_credentials_outside_sandbox_a_method_is_unavailable(
    mongodb_url: str, redis_url: str, http: httpx.AsyncClient
) -> None:
    settings = make_settings(mongodb_url, redis_url, sandbox=False, payments={"methods": ["mpesa", "paypal"]})
    async with payment_vendors(settings, http) as vendors:
        assert vendors.providers == {} and vendors.mpesa_callback_token is None
        assert vendors.unavailable == {
            "mpesa": "payments.mpesa has no credentials",
            "paypal": "payments.paypal has no credentials",
        }
