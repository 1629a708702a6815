"""The PayPal adapter against the PayPal emulator over loopback HTTP: orders, capture, refunds, webhooks."""

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from providers.emulators import (
    PAYPAL_SANDBOX,
    PaypalEmulatorSettings,
    PaypalSandbox,
    create_paypal_emulator,
    serve_emulator,
)
from providers.errors import ProviderMisconfigured, SignatureInvalid, VendorRejected
from providers.payments import PaymentOutcome, PaymentRequest, PaypalProvider, PaypalSettings, usd_cents_for_kes
from tests.providers.payment_harness import ReceivedWebhook, WebhookInbox, serve_webhook_inbox, vendor_http_client

RETURN_URL = "https://app.lango.example/paypal/return"


@pytest.fixture
async def inbox() -> AsyncIterator[WebhookInbox]:
    async with serve_webhook_inbox() as webhooks:
        yield webhooks


@pytest.fixture
async def emulator(inbox: WebhookInbox) -> AsyncIterator[tuple[PaypalSandbox, str]]:
    app = create_paypal_emulator(PaypalEmulatorSettings(webhook_url=f"{inbox.url}/paypal"))
    async with serve_emulator(app) as url:
        yield app[PAYPAL_SANDBOX], url


@pytest.fixture
def sandbox(emulator: tuple[PaypalSandbox, str]) -> PaypalSandbox:
    return emulator[0]


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with vendor_http_client() as client:
        yield client


def paypal_config(base_url: str, **overrides: object) -> PaypalSettings:
    emulator = PaypalEmulatorSettings()
    return PaypalSettings.model_validate(
        {
            "base_url": base_url,
            "client_id": emulator.client_id,
            "client_secret": emulator.client_secret,
            "webhook_id": emulator.webhook_id,
            "kes_per_usd": "129.50",
            "return_url": RETURN_URL,
            "cancel_url": "https://app.lango.example/paypal/cancel",
            **overrides,
        }
    )


@pytest.fixture
def provider(emulator: tuple[PaypalSandbox, str], http: httpx.AsyncClient) -> PaypalProvider:
    return PaypalProvider(paypal_config(emulator[1]), http)


def paypal_payment(key: str = "idem-paypal-1", amount_minor: int = 1_250_000, currency: str = "KES") -> PaymentRequest:
    return PaymentRequest(
        merchant_reference="pay_pp_0001",
        amount_minor=amount_minor,
        currency=currency,
        description="Stay at Nanyuki Farmhouse, 3 nights",
        idempotency_key=key,
    )


async def next_event_of_type(inbox: WebhookInbox, event_type: str) -> ReceivedWebhook:
    while True:
        delivery = await inbox.next()
        if f'"event_type":"{event_type}"'.encode() in delivery.body:
            return delivery


async def approved_order(provider: PaypalProvider, http: httpx.AsyncClient, key: str = "idem-paypal-1") -> str:
    initiation = await provider.initiate(paypal_payment(key))
    assert initiation.approve_url is not None
    buyer_returns = await http.get(initiation.approve_url)
    assert buyer_returns.status_code == 302
    assert buyer_returns.headers["Location"].startswith(f"{RETURN_URL}?token={initiation.reference}")
    return initiation.reference


@pytest.mark.parametrize(
    ("kes_minor", "rate", "usd_cents"),
    [
        (12_950, "129.50", 100),
        (12_951, "129.50", 101),
        (1_250_000, "129.50", 9_653),
        (100, "129.5", 1),
        (1_000_000, "128.3333", 7_793),
    ],
)
def test_kes_converts_to_usd_rounding_up_to_the_cent(kes_minor, rate, usd_cents):
    assert usd_cents_for_kes(kes_minor, Decimal(rate)) == usd_cents


async def test_order_priced_in_usd_with_the_original_amount_kept(provider, sandbox):
    initiation = await provider.initiate(paypal_payment())
    assert (initiation.requested_amount_minor, initiation.requested_currency) == (1_250_000, "KES")
    assert (initiation.charged_amount_minor, initiation.charged_currency) == (9_653, "USD")
    unit = sandbox.orders[initiation.reference]["purchase_units"][0]
    assert unit["amount"] == {"currency_code": "USD", "value": "96.53"}
    assert unit["custom_id"] == "pay_pp_0001"


async def test_usd_is_charged_as_is_and_other_currencies_are_refused(provider, sandbox):
    usd = await provider.initiate(paypal_payment(amount_minor=4_999, currency="USD"))
    assert usd.charged_amount_minor == 4_999
    with pytest.raises(VendorRejected):
        await provider.initiate(paypal_payment(key="idem-eur", currency="EUR"))
    assert len(sandbox.orders) == 1


async def test_twenty_concurrent_orders_share_one_token(provider, sandbox):
    await asyncio.gather(*(provider.initiate(paypal_payment(key=f"idem-{n}")) for n in range(20)))
    assert len(sandbox.orders) == 20
    assert sandbox.token_requests == 1


async def test_same_request_id_returns_the_same_order(provider, sandbox):
    first = await provider.initiate(paypal_payment())
    again = await provider.initiate(paypal_payment())
    assert again.reference == first.reference
    assert len(sandbox.orders) == 1


async def test_create_approve_capture(provider, http):
    order_id = await approved_order(provider, http)
    approved = await provider.query_status(order_id)
    assert (approved.outcome, approved.awaiting_capture) == (PaymentOutcome.PENDING, True)
    captured = await provider.capture(order_id, "capture-1")
    assert (captured.outcome, captured.awaiting_capture) == (PaymentOutcome.SUCCEEDED, False)
    assert (captured.amount_minor, captured.currency) == (9_653, "USD")
    assert captured.receipt and captured.merchant_reference == "pay_pp_0001"
    again = await provider.capture(order_id, "capture-2")
    assert (again.outcome, again.receipt) == (PaymentOutcome.SUCCEEDED, captured.receipt)


async def test_capture_before_approval_is_rejected(provider):
    initiation = await provider.initiate(paypal_payment())
    with pytest.raises(VendorRejected) as raised:
        await provider.capture(initiation.reference, "capture-early")
    assert "ORDER_NOT_APPROVED" in (raised.value.reason or "")


async def test_webhooks_verified_through_paypal_and_normalized(provider, http, inbox):
    order_id = await approved_order(provider, http)
    approved = await next_event_of_type(inbox, "CHECKOUT.ORDER.APPROVED")
    [event] = await provider.parse_webhook(approved.headers, approved.body)
    assert (event.reference, event.outcome, event.awaiting_capture) == (order_id, PaymentOutcome.PENDING, True)
    assert event.dedupe_key.startswith("paypal:WH-")
    await provider.capture(order_id, "capture-1")
    completed = await next_event_of_type(inbox, "PAYMENT.CAPTURE.COMPLETED")
    [event] = await provider.parse_webhook(completed.headers, completed.body)
    assert (event.reference, event.outcome, event.amount_minor) == (order_id, PaymentOutcome.SUCCEEDED, 9_653)
    assert event.merchant_reference == "pay_pp_0001"


async def test_forged_or_incomplete_webhooks_are_refused(provider, http, inbox, emulator):
    await approved_order(provider, http)
    delivery = await next_event_of_type(inbox, "CHECKOUT.ORDER.APPROVED")
    with pytest.raises(SignatureInvalid):
        await provider.parse_webhook(delivery.headers, delivery.body.replace(b"APPROVED", b"COMPLETED"))
    without_signature = {k: v for k, v in delivery.headers.items() if k.upper() != "PAYPAL-TRANSMISSION-SIG"}
    with pytest.raises(SignatureInvalid):
        await provider.parse_webhook(without_signature, delivery.body)
    other_webhook = PaypalProvider(paypal_config(emulator[1], webhook_id="9XX00000000000000"), http)
    with pytest.raises(SignatureInvalid):
        await other_webhook.parse_webhook(delivery.headers, delivery.body)


async def test_partial_then_full_refund(provider, http, inbox):
    order_id = await approved_order(provider, http)
    await provider.capture(order_id, "capture-1")
    partial = await provider.refund(order_id, 3_000, "refund-1")
    assert (partial.outcome, partial.amount_minor, partial.currency) == (
        PaymentOutcome.PARTIALLY_REFUNDED,
        3_000,
        "USD",
    )
    refunded = await next_event_of_type(inbox, "PAYMENT.CAPTURE.REFUNDED")
    [event] = await provider.parse_webhook(refunded.headers, refunded.body)
    assert (event.reference, event.outcome, event.amount_minor) == (order_id, PaymentOutcome.PARTIALLY_REFUNDED, 3_000)
    rest = await provider.refund(order_id, None, "refund-2")
    assert (rest.outcome, rest.amount_minor) == (PaymentOutcome.REFUNDED, 6_653)
    status = await provider.query_status(order_id)
    assert (status.outcome, status.amount_minor) == (PaymentOutcome.REFUNDED, 9_653)
    with pytest.raises(VendorRejected):
        await provider.refund(order_id, 1, "refund-3")


async def test_refund_of_an_uncaptured_order_is_rejected(provider):
    initiation = await provider.initiate(paypal_payment())
    with pytest.raises(VendorRejected):
        await provider.refund(initiation.reference, None, "refund-nothing")


async def test_wrong_client_secret_is_a_misconfiguration(emulator, http):
    provider = PaypalProvider(paypal_config(emulator[1], client_secret="not-the-secret"), http)
    with pytest.raises(ProviderMisconfigured):
        await provider.initiate(paypal_payment())
