"""Payment adapters built from settings at start-up (in sandbox mode, emulators stand in for vendors without
credentials), and what the payments flow holds of them at run time."""

import asyncio
import secrets
from collections.abc import AsyncIterator, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from gateway.logs import get_logger
from gateway.settings import PaymentSettings, Settings
from providers.errors import ProviderError
from providers.payments import (
    MpesaProvider,
    MpesaSettings,
    PaymentProvider,
    PaypalProvider,
    PaypalSettings,
    StripeProvider,
    StripeSettings,
)

if TYPE_CHECKING:
    from providers.emulators import DarajaSandbox, PaypalSandbox, StripeSandbox

log = get_logger("lango.payments")
MPESA_CALLBACK_PATH = "/webhooks/mpesa"
STRIPE_WEBHOOK_PATH = "/webhooks/stripe"
PAYPAL_WEBHOOK_PATH = "/webhooks/paypal"
# Paybill (C2B) routes: Daraja refuses registered URLs that name M-Pesa or Safaricom.
PAYBILL_PATH = "/webhooks/paybill"
PaymentVendorSettings = MpesaSettings | StripeSettings | PaypalSettings


@dataclass(frozen=True)
class PaybillUrls:
    """Where M-Pesa asks whether to take a Paybill payment, and where it confirms one."""

    confirmation: str
    validation: str


def paybill_urls(public_url: str, token: str) -> PaybillUrls:
    base = public_url.rstrip("/") + PAYBILL_PATH
    return PaybillUrls(confirmation=f"{base}/confirmation/{token}", validation=f"{base}/validation/{token}")


@dataclass
class SandboxVendors:
    """The in-process emulators standing in for vendors without credentials (sandbox mode only)."""

    daraja: "DarajaSandbox | None" = None
    stripe: "StripeSandbox | None" = None
    paypal: "PaypalSandbox | None" = None


@dataclass
class PaymentVendors:
    providers: dict[str, PaymentProvider]
    # Enabled methods that cannot take payments here, with the reason (missing credentials).
    unavailable: dict[str, str]
    # The M-Pesa callback token this process accepts (configured, or generated in sandbox).
    mpesa_callback_token: str | None
    sandbox: SandboxVendors = field(default_factory=SandboxVendors)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def mpesa(self) -> MpesaProvider | None:
        """The M-Pesa adapter, for what only Daraja does (B2C, reversals, the Paybill); None when M-Pesa is off."""
        provider = self.providers.get("mpesa")
        return provider if isinstance(provider, MpesaProvider) else None

    def run_after_answer(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        """Run `work` once the vendor has its answer; the task is held until it ends so it is never lost mid-way."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def finish_background_work(self) -> None:
        """Wait for everything started by `run_after_answer` (shutdown, and tests that need a settled state)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


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
    # The token M-Pesa callbacks carry: the configured one, or in sandbox, where the emulator calls back, one made here.
    # Hex, so it can never spell a word Safaricom refuses in a registered Paybill URL ("cmd", "sql", "exec", ...).
    configured_token = payments.mpesa.callback_token
    callback_token = configured_token.get_secret_value() if configured_token else secrets.token_hex(24)
    for method in payments.methods:
        vendor: PaymentVendorSettings = getattr(payments, method)
        if not vendor.has_credentials:
            if not settings.sandbox:
                unavailable[method] = f"payments.{method} has no credentials"
                log.warning("payment method unavailable: no credentials", method=method)
                continue
            vendor = await _start_emulator(method, payments, public_url, sandbox, stack)
        providers[method] = _adapter(vendor, http, public_url + MPESA_CALLBACK_PATH, callback_token)
    await _warm_up(providers)
    if sandbox.daraja is not None:
        await _register_paybill(providers, paybill_urls(public_url, callback_token))
    return PaymentVendors(providers, unavailable, callback_token if "mpesa" in providers else None, sandbox)


def _adapter(
    vendor: PaymentVendorSettings, http: httpx.AsyncClient, mpesa_callback_url: str, callback_token: str
) -> PaymentProvider:
    """The adapter that takes `vendor`'s settings; M-Pesa's also learns where Safaricom calls back, and with what."""
    if isinstance(vendor, MpesaSettings):
        return MpesaProvider(vendor, http, callback_url=mpesa_callback_url, callback_token=callback_token)
    if isinstance(vendor, StripeSettings):
        return StripeProvider(vendor, http)
    return PaypalProvider(vendor, http)


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


async def _register_paybill(providers: dict[str, PaymentProvider], urls: PaybillUrls) -> None:
    """Tell the Daraja emulator where Paybill payments are validated and confirmed. A live shortcode's URLs are
    registered once, with `lango mpesa register-c2b`: Safaricom does not take a new registration at every start."""
    mpesa = providers.get("mpesa")
    if not isinstance(mpesa, MpesaProvider):
        return
    try:
        await mpesa.c2b_register(urls.confirmation, urls.validation)
    except ProviderError as error:
        log.warning("Paybill URLs not registered with the Daraja emulator", error=str(error))


async def _start_emulator(
    method: str, payments: PaymentSettings, public_url: str, sandbox: SandboxVendors, stack: AsyncExitStack
) -> PaymentVendorSettings:
    """Serve the method's emulator on a loopback port for the app's lifetime; answer the method's settings pointed
    at it."""
    # Imported here, not atop the module: the emulators are aiohttp servers, loaded only by a sandbox that starts one,
    # so the payments domain loads no web server in production or in the worker.
    from providers.emulators import (
        DARAJA_SANDBOX,
        PAYPAL_SANDBOX,
        STRIPE_SANDBOX,
        DarajaSettings,
        PaypalEmulatorSettings,
        StripeEmulatorSettings,
        create_daraja_emulator,
        create_paypal_emulator,
        create_stripe_emulator,
        serve_emulator,
    )

    if method == "mpesa":
        daraja = DarajaSettings(callback_delay_seconds=payments.sandbox_callback_delay_s)
        # Its initiator key pair is made as it is built: kept off the event loop.
        emulator = await asyncio.to_thread(create_daraja_emulator, daraja)
        url = await stack.enter_async_context(serve_emulator(emulator))
        sandbox.daraja = emulator[DARAJA_SANDBOX]
        log.info("M-Pesa sandbox: Daraja emulator started", url=url)
        return sandbox.daraja.adapter_settings(payments.mpesa, url)
    if method == "stripe":
        stripe = StripeEmulatorSettings(webhook_url=public_url + STRIPE_WEBHOOK_PATH)
        emulator = create_stripe_emulator(stripe)
        url = await stack.enter_async_context(serve_emulator(emulator))
        sandbox.stripe = emulator[STRIPE_SANDBOX]
        log.info("card sandbox: Stripe emulator started", url=url)
        return stripe.adapter_settings(payments.stripe, url)
    paypal = PaypalEmulatorSettings(webhook_url=public_url + PAYPAL_WEBHOOK_PATH)
    emulator = create_paypal_emulator(paypal)
    url = await stack.enter_async_context(serve_emulator(emulator))
    sandbox.paypal = emulator[PAYPAL_SANDBOX]
    log.info("PayPal sandbox: emulator started", url=url)
    return paypal.adapter_settings(payments.paypal, url)
