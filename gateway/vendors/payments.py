"""Payment adapters built from settings at start-up (in sandbox mode, emulators stand in for vendors without
credentials), and what the payments flow holds of them at run time."""

import asyncio
import secrets
from collections.abc import AsyncIterator, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.logs import get_logger
from gateway.settings import PaymentSettings, Settings
from providers.emulators import (
    DARAJA_SANDBOX,
    PAYPAL_SANDBOX,
    STRIPE_SANDBOX,
    DarajaSandbox,
    DarajaSettings,
    PaypalSandbox,
    PaypalSettings,
    StripeSandbox,
    StripeSettings,
    create_daraja_emulator,
    create_paypal_emulator,
    create_stripe_emulator,
    serve_emulator,
)
from providers.errors import ProviderError
from providers.payments import MpesaProvider, PaymentProvider, create_payment_provider

log = get_logger("lango.payments")
MPESA_CALLBACK_PATH = "/webhooks/mpesa"
STRIPE_WEBHOOK_PATH = "/webhooks/stripe"
PAYPAL_WEBHOOK_PATH = "/webhooks/paypal"


@dataclass
class SandboxVendors:
    """The in-process emulators standing in for vendors without credentials (sandbox mode only)."""

    daraja: DarajaSandbox | None = None
    stripe: StripeSandbox | None = None
    paypal: PaypalSandbox | None = None


@dataclass
class PaymentVendors:
    providers: dict[str, PaymentProvider]
    # Enabled methods that cannot take payments here, with the reason (missing credentials).
    unavailable: dict[str, str]
    # The M-Pesa callback token this process accepts (configured, or generated in sandbox).
    mpesa_callback_token: str | None
    sandbox: SandboxVendors = field(default_factory=SandboxVendors)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def run_after_answer(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        """Run `work` once the vendor has its answer; the task is held until it ends so it is never lost mid-way."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def finish_background_work(self) -> None:
        """Wait for everything started by `run_after_answer` (shutdown, and tests that need a settled state)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


@asynccontextmanager
async def payment_vendors(settings: Settings, http: httpx.AsyncClient) -> AsyncIterator[PaymentVendors]:
    """The adapters (and emulators) for the process's lifetime; work still running when it ends is finished first."""
    async with AsyncExitStack() as stack:
        vendors = await _build_vendors(settings, http, stack)
        yield vendors
        await vendors.finish_background_work()


async def _build_vendors(settings: Settings, http: httpx.AsyncClient, stack: AsyncExitStack) -> PaymentVendors:
    payments = settings.payments
    public_url = settings.server.public_url.rstrip("/")
    providers: dict[str, PaymentProvider] = {}
    unavailable: dict[str, str] = {}
    sandbox = SandboxVendors()
    callback_token = _secret(payments.mpesa.callback_token)
    for method in payments.methods:
        if _configured(payments, method) and (method != "mpesa" or callback_token):
            options = _vendor_options(payments, method, public_url, callback_token)
        elif settings.sandbox:
            if method == "mpesa":
                callback_token = callback_token or secrets.token_urlsafe(24)
            options = await _start_emulator(payments, method, public_url, callback_token, sandbox, stack)
        else:
            unavailable[method] = f"payments.{method} has no credentials"
            log.warning("payment method unavailable: no credentials", method=method)
            continue
        providers[method] = create_payment_provider(method, options, http=http)
    await _warm_up(providers)
    return PaymentVendors(providers, unavailable, callback_token if "mpesa" in providers else None, sandbox)


async def _warm_up(providers: dict[str, PaymentProvider]) -> None:
    """The first request through the HTTP client loads its network backend: paid at start-up, not by the first payer.
    Fetching the Daraja token also shows bad credentials in the start-up log rather than at the first payment."""
    mpesa = providers.get("mpesa")
    if not isinstance(mpesa, MpesaProvider):
        return
    try:
        await mpesa.access_token()
    except ProviderError as error:
        log.warning("Daraja token not fetched at start-up", error=str(error))


def _configured(payments: PaymentSettings, method: str) -> bool:
    return getattr(payments, method).has_credentials


def _vendor_options(payments: PaymentSettings, method: str, public_url: str, callback_token: str | None) -> dict[str, Any]:
    if method == "mpesa":
        mpesa = payments.mpesa
        return {
            "base_url": mpesa.base_url,
            "consumer_key": _secret(mpesa.consumer_key),
            "consumer_secret": _secret(mpesa.consumer_secret),
            "passkey": _secret(mpesa.passkey),
            "shortcode": mpesa.shortcode,
            "party_b": mpesa.party_b,
            "transaction_type": mpesa.transaction_type,
            "callback_url": public_url + MPESA_CALLBACK_PATH,
            "callback_token": callback_token,
            "timeout": mpesa.timeout_s,
        }
    if method == "stripe":
        stripe = payments.stripe
        return {
            "api_key": _secret(stripe.api_key),
            "webhook_secret": _secret(stripe.webhook_secret),
            "api_base": stripe.api_base,
            "webhook_tolerance_seconds": stripe.webhook_tolerance_s,
        }
    paypal = payments.paypal
    return {
        "base_url": paypal.base_url,
        "client_id": paypal.client_id,
        "client_secret": _secret(paypal.client_secret),
        "webhook_id": paypal.webhook_id,
        "kes_per_usd": paypal.kes_per_usd,
        "return_url": paypal.return_url,
        "cancel_url": paypal.cancel_url,
    }


async def _start_emulator(
    payments: PaymentSettings,
    method: str,
    public_url: str,
    callback_token: str | None,
    sandbox: SandboxVendors,
    stack: AsyncExitStack,
) -> dict[str, Any]:
    """Serve the method's emulator on a loopback port for the app's lifetime; answer the adapter's options for it."""
    if method == "mpesa":
        daraja = DarajaSettings(callback_delay_seconds=payments.sandbox_callback_delay_s)
        emulator = create_daraja_emulator(daraja)
        url = await stack.enter_async_context(serve_emulator(emulator))
        sandbox.daraja = emulator[DARAJA_SANDBOX]
        log.info("M-Pesa sandbox: Daraja emulator started", url=url)
        return {
            "base_url": url,
            "consumer_key": daraja.consumer_key,
            "consumer_secret": daraja.consumer_secret,
            "passkey": daraja.passkey,
            "shortcode": daraja.shortcode,
            "callback_url": public_url + MPESA_CALLBACK_PATH,
            "callback_token": callback_token,
        }
    if method == "stripe":
        stripe = StripeSettings(webhook_url=public_url + STRIPE_WEBHOOK_PATH)
        emulator = create_stripe_emulator(stripe)
        url = await stack.enter_async_context(serve_emulator(emulator))
        sandbox.stripe = emulator[STRIPE_SANDBOX]
        log.info("card sandbox: Stripe emulator started", url=url)
        return {
            "api_key": stripe.api_key,
            "webhook_secret": stripe.webhook_secret,
            "api_base": url,
            "webhook_tolerance_seconds": payments.stripe.webhook_tolerance_s,
        }
    paypal = PaypalSettings(webhook_url=public_url + PAYPAL_WEBHOOK_PATH)
    emulator = create_paypal_emulator(paypal)
    url = await stack.enter_async_context(serve_emulator(emulator))
    sandbox.paypal = emulator[PAYPAL_SANDBOX]
    log.info("PayPal sandbox: emulator started", url=url)
    return {
        "base_url": url,
        "client_id": paypal.client_id,
        "client_secret": paypal.client_secret,
        "webhook_id": paypal.webhook_id,
        "kes_per_usd": payments.paypal.kes_per_usd,
        "return_url": payments.paypal.return_url,
        "cancel_url": payments.paypal.cancel_url,
    }
