"""Each payment vendor's settings: what they refuse as they are read, and the adapter refusing settings it cannot
work with, naming every key to set."""

import httpx
import pytest
from pydantic import ValidationError

from providers.errors import ProviderMisconfigured
from providers.payments import (
    MpesaProvider,
    MpesaSettings,
    PaypalProvider,
    PaypalSettings,
    StripeProvider,
    StripeSettings,
)


@pytest.mark.parametrize("rate", ["0", "-1", "abc", "129.123456"])
def test_exchange_rate_must_be_a_positive_decimal(rate: str) -> None:
    with pytest.raises(ValidationError) as raised:
        PaypalSettings(kes_per_usd=rate)
    assert [problem["loc"] for problem in raised.value.errors()] == [("kes_per_usd",)]


@pytest.mark.parametrize(
    "setting", [{"base_url": "sandbox.safaricom.co.ke"}, {"shortcode": "17"}, {"party_b": "1a345"}]
)
def test_mpesa_settings_refuse_what_daraja_would(setting: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as raised:
        MpesaSettings.model_validate(setting)
    assert [problem["loc"] for problem in raised.value.errors()] == [tuple(setting)]


async def test_an_adapter_refuses_settings_without_its_credentials_naming_each_key(http: httpx.AsyncClient) -> None:
    with pytest.raises(ProviderMisconfigured) as mpesa:
        MpesaProvider(
            MpesaSettings(shortcode="174379"), http, callback_url="https://api.lango.example", callback_token="t" * 32
        )
    assert str(mpesa.value) == (
        "missing settings: payments.mpesa.consumer_key, payments.mpesa.consumer_secret, payments.mpesa.passkey"
    )
    with pytest.raises(ProviderMisconfigured, match=r"^missing settings: payments\.stripe\.webhook_secret$"):
        StripeProvider(StripeSettings(api_key="sk_test_x"), http)
    with pytest.raises(ProviderMisconfigured, match=r"^missing settings: payments\.paypal\.webhook_id$"):
        PaypalProvider(PaypalSettings(client_id="client", client_secret="secret"), http)
