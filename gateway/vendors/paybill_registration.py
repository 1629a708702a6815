"""Registering a live shortcode's Paybill (C2B) validation and confirmation URLs with Daraja, once, by
`lango mpesa register-c2b` (the sandbox's emulator is told at every start by gateway.vendors.payments)."""

from typing import Any

from gateway.outbound_http import create_http_client
from gateway.settings import Settings
from gateway.vendors.payments import MPESA_CALLBACK_PATH, PaybillUrls, paybill_urls
from providers.payments import MpesaProvider


class RegistrationImpossible(Exception):
    """The settings cannot name a live shortcode's URLs: which key to set, and why."""


def _callback_token(settings: Settings) -> str:
    """The configured token the URLs carry; RegistrationImpossible naming what is missing."""
    mpesa = settings.payments.mpesa
    if not mpesa.has_credentials or mpesa.callback_token is None:
        raise RegistrationImpossible(
            "set payments.mpesa.consumer_key, consumer_secret, passkey, shortcode and callback_token to register C2B URLs"
        )
    return mpesa.callback_token.get_secret_value()


async def register_live_paybill(settings: Settings) -> tuple[PaybillUrls, dict[str, Any]]:
    """Register the shortcode's C2B URLs under server.public_url with Daraja (payments.mpesa.base_url); Daraja's
    answer. VendorRejected when Daraja refuses them, VendorUnavailable when it cannot be reached."""
    token = _callback_token(settings)
    public_url = settings.server.public_url.rstrip("/")
    urls = paybill_urls(public_url, token)
    async with create_http_client(settings.http) as http:
        mpesa = MpesaProvider(
            settings.payments.mpesa, http, callback_url=public_url + MPESA_CALLBACK_PATH, callback_token=token
        )
        return urls, await mpesa.c2b_register(urls.confirmation, urls.validation)
