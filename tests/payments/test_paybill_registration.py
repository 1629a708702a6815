"""`lango mpesa register-c2b`: a live shortcode's Paybill URLs registered with Daraja (here its emulator), refused
words and missing settings named."""

import subprocess
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from gateway.settings import Settings
from gateway.vendors.paybill_registration import RegistrationImpossible, register_live_paybill
from providers.emulators import DARAJA_SANDBOX, DarajaSandbox, DarajaSettings, create_daraja_emulator, serve_emulator
from providers.errors import VendorRejected
from providers.payments import MpesaSettings
from tests.conftest import make_settings
from tests.gateway.test_cli import LANGO, _clean_env

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
async def daraja() -> AsyncIterator[tuple[DarajaSandbox, str]]:
    app = create_daraja_emulator(DarajaSettings(callback_delay_seconds=0))
    async with serve_emulator(app) as url:
        yield app[DARAJA_SANDBOX], url


def live(sandbox: DarajaSandbox, url: str, public_url: str) -> Settings:
    mpesa = sandbox.adapter_settings(MpesaSettings(), url).model_copy(update={"callback_token": SecretStr(TOKEN)})
    return make_settings(
        "mongodb://127.0.0.1:27017",
        "redis://127.0.0.1:6379",
        server={"public_url": public_url},
        payments={"mpesa": mpesa},
    )


async def test_the_shortcodes_urls_are_registered_under_the_public_url(daraja: tuple[DarajaSandbox, str]) -> None:
    sandbox, url = daraja
    urls, answer = await register_live_paybill(live(sandbox, url, "https://api.lango.example/"))
    assert answer["ResponseCode"] == "0"
    registered = sandbox.c2b_registrations[sandbox.settings.shortcode]
    assert (registered.confirmation_url, registered.validation_url) == (urls.confirmation, urls.validation)
    assert registered.confirmation_url == f"https://api.lango.example/webhooks/paybill/confirmation/{TOKEN}"
    assert registered.validation_url == f"https://api.lango.example/webhooks/paybill/validation/{TOKEN}"


async def test_daraja_refuses_urls_that_name_mpesa(daraja: tuple[DarajaSandbox, str]) -> None:
    sandbox, url = daraja
    with pytest.raises(VendorRejected):
        await register_live_paybill(live(sandbox, url, "https://mpesa.lango.example"))
    assert sandbox.c2b_registrations == {}


async def test_without_credentials_nothing_is_asked() -> None:
    with pytest.raises(RegistrationImpossible, match="callback_token"):
        await register_live_paybill(make_settings("mongodb://127.0.0.1:27017", "redis://127.0.0.1:6379"))


def test_the_command_names_what_is_missing() -> None:
    done = subprocess.run(
        [*LANGO, "mpesa", "register-c2b"], env=_clean_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "lango mpesa register-c2b: set payments.mpesa.consumer_key" in done.stderr
