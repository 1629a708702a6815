"""The Stripe adapter against the Stripe emulator over loopback HTTP: intents, signed webhooks, refunds."""

import socket
import time
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
import stripe

from providers.emulators import (
    STRIPE_SANDBOX,
    StripeEmulatorSettings,
    StripeSandbox,
    create_stripe_emulator,
    serve_emulator,
)
from providers.errors import ProviderMisconfigured, SignatureInvalid, VendorRejected, VendorUnavailable
from providers.payments import PaymentOutcome, PaymentRequest, StripeProvider, StripeSettings
from tests.providers.payment_harness import WebhookInbox, serve_webhook_inbox, vendor_http_client


@pytest.fixture
async def inbox() -> AsyncIterator[WebhookInbox]:
    async with serve_webhook_inbox() as webhooks:
        yield webhooks


@pytest.fixture
async def emulator(inbox: WebhookInbox) -> AsyncIterator[tuple[StripeSandbox, str]]:
    app = create_stripe_emulator(StripeEmulatorSettings(webhook_url=f"{inbox.url}/stripe"))
    async with serve_emulator(app) as url:
        yield app[STRIPE_SANDBOX], url


@pytest.fixture
def sandbox(emulator: tuple[StripeSandbox, str]) -> StripeSandbox:
    return emulator[0]


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with vendor_http_client() as client:
        yield client


def stripe_provider(api_base: str, http: httpx.AsyncClient, **overrides: object) -> StripeProvider:
    emulator = StripeEmulatorSettings()
    settings = StripeSettings.model_validate(
        {"api_key": emulator.api_key, "webhook_secret": emulator.webhook_secret, "api_base": api_base, **overrides}
    )
    return StripeProvider(settings, http, max_network_retries=0)


@pytest.fixture
def provider(emulator: tuple[StripeSandbox, str], http: httpx.AsyncClient) -> StripeProvider:
    return stripe_provider(emulator[1], http)


def card_payment(amount_minor: int = 1_250_000, key: str = "idem-card-1", currency: str = "KES") -> PaymentRequest:
    return PaymentRequest(
        merchant_reference="pay_card_0001",
        amount_minor=amount_minor,
        currency=currency,
        description="Stay at Lamu Old Town House, 5 nights",
        idempotency_key=key,
    )


async def next_event_of_type(inbox: WebhookInbox, event_type: str):
    while True:
        delivery = await inbox.next()
        if f'"type":"{event_type}"'.encode() in delivery.body:
            return delivery


async def test_payment_intent_created_with_client_secret(provider, sandbox):
    initiation = await provider.initiate(card_payment())
    assert initiation.reference.startswith("pi_")
    assert initiation.client_secret and initiation.client_secret.startswith(f"{initiation.reference}_secret_")
    assert (initiation.charged_amount_minor, initiation.charged_currency) == (1_250_000, "KES")
    intent = sandbox.intents[initiation.reference]
    assert (intent["amount"], intent["currency"]) == (1_250_000, "kes")
    assert intent["metadata"] == {"merchant_reference": "pay_card_0001"}
    assert intent["automatic_payment_methods"] == {"enabled": "true"}


async def test_same_idempotency_key_returns_the_same_intent(provider, sandbox):
    first = await provider.initiate(card_payment())
    again = await provider.initiate(card_payment())
    assert again.reference == first.reference
    assert len(sandbox.intents) == 1


async def test_idempotency_key_reused_with_other_parameters_is_rejected(provider, sandbox):
    await provider.initiate(card_payment())
    with pytest.raises(VendorRejected) as raised:
        await provider.initiate(card_payment(amount_minor=990_000))
    assert isinstance(raised.value.__cause__, stripe.IdempotencyError)
    assert len(sandbox.intents) == 1


async def test_succeeded_webhook_is_verified_and_normalized(provider, sandbox, inbox):
    initiation = await provider.initiate(card_payment())
    sandbox.confirm(initiation.reference)
    delivery = await next_event_of_type(inbox, "payment_intent.succeeded")
    [event] = await provider.parse_webhook(delivery.headers, delivery.body)
    assert (event.reference, event.outcome) == (initiation.reference, PaymentOutcome.SUCCEEDED)
    assert (event.amount_minor, event.currency) == (1_250_000, "KES")
    assert event.merchant_reference == "pay_card_0001"
    assert event.receipt == sandbox.intents[initiation.reference]["latest_charge"]
    assert event.dedupe_key == f"stripe:{event.raw['id']}"


async def test_declined_card_webhook_carries_the_decline_reason(provider, sandbox, inbox):
    initiation = await provider.initiate(card_payment())
    sandbox.confirm(initiation.reference, "pm_card_chargeDeclinedInsufficientFunds")
    delivery = await next_event_of_type(inbox, "payment_intent.payment_failed")
    [event] = await provider.parse_webhook(delivery.headers, delivery.body)
    assert (event.outcome, event.vendor_code) == (PaymentOutcome.FAILED, "insufficient_funds")
    assert "insufficient funds" in event.reason


async def test_tampered_unsigned_or_foreign_webhooks_are_refused(provider, sandbox, inbox, emulator, http):
    initiation = await provider.initiate(card_payment())
    sandbox.confirm(initiation.reference)
    delivery = await next_event_of_type(inbox, "payment_intent.succeeded")
    tampered = delivery.body.replace(b'"amount":1250000', b'"amount":1')
    assert tampered != delivery.body
    with pytest.raises(SignatureInvalid):
        await provider.parse_webhook(delivery.headers, tampered)
    with pytest.raises(SignatureInvalid):
        await provider.parse_webhook({}, delivery.body)
    foreign = stripe_provider(emulator[1], http, webhook_secret="whsec_someone_else")
    with pytest.raises(SignatureInvalid):
        await foreign.parse_webhook(delivery.headers, delivery.body)


async def test_signature_older_than_the_tolerance_is_refused(provider, sandbox):
    initiation = await provider.initiate(card_payment())
    event = sandbox.emit("payment_intent.succeeded", sandbox.confirm(initiation.reference))
    body = orjson.dumps(event)
    now = int(time.time())
    recent = {"Stripe-Signature": sandbox.sign(body, timestamp=now - 250)}
    assert len(await provider.parse_webhook(recent, body)) == 1
    stale = {"Stripe-Signature": sandbox.sign(body, timestamp=now - 301)}
    with pytest.raises(SignatureInvalid):
        await provider.parse_webhook(stale, body)


async def test_query_follows_the_intent(provider, sandbox):
    initiation = await provider.initiate(card_payment())
    assert (await provider.query_status(initiation.reference)).outcome is PaymentOutcome.PENDING
    sandbox.confirm(initiation.reference)
    settled = await provider.query_status(initiation.reference)
    assert (settled.outcome, settled.amount_minor) == (PaymentOutcome.SUCCEEDED, 1_250_000)
    assert settled.receipt == sandbox.intents[initiation.reference]["latest_charge"]


async def test_query_reports_a_declined_card(provider, sandbox):
    initiation = await provider.initiate(card_payment())
    sandbox.confirm(initiation.reference, "pm_card_chargeDeclined")
    declined = await provider.query_status(initiation.reference)
    assert (declined.outcome, declined.vendor_code) == (PaymentOutcome.FAILED, "generic_decline")


async def test_partial_then_full_refund(provider, sandbox, inbox):
    initiation = await provider.initiate(card_payment())
    sandbox.confirm(initiation.reference)
    partial = await provider.refund(initiation.reference, 250_000, "refund-1")
    assert (partial.outcome, partial.amount_minor, partial.currency) == (
        PaymentOutcome.PARTIALLY_REFUNDED,
        250_000,
        "KES",
    )
    assert partial.refund_reference.startswith("re_")
    partial_event = await next_event_of_type(inbox, "charge.refunded")
    [event] = await provider.parse_webhook(partial_event.headers, partial_event.body)
    assert (event.reference, event.outcome, event.amount_minor) == (
        initiation.reference,
        PaymentOutcome.PARTIALLY_REFUNDED,
        250_000,
    )
    rest = await provider.refund(initiation.reference, None, "refund-2")
    assert (rest.outcome, rest.amount_minor) == (PaymentOutcome.REFUNDED, 1_000_000)
    status = await provider.query_status(initiation.reference)
    assert (status.outcome, status.amount_minor) == (PaymentOutcome.REFUNDED, 1_250_000)


async def test_refund_retried_with_its_key_refunds_once(provider, sandbox):
    initiation = await provider.initiate(card_payment())
    sandbox.confirm(initiation.reference)
    first = await provider.refund(initiation.reference, 100_000, "refund-once")
    again = await provider.refund(initiation.reference, 100_000, "refund-once")
    assert again.refund_reference == first.refund_reference
    assert len(sandbox.refunds) == 1


async def test_refund_beyond_what_is_left_is_rejected(provider, sandbox):
    initiation = await provider.initiate(card_payment())
    sandbox.confirm(initiation.reference)
    with pytest.raises(VendorRejected):
        await provider.refund(initiation.reference, 1_250_001, "refund-too-much")


async def test_wrong_api_key_is_a_misconfiguration(emulator, http):
    provider = stripe_provider(emulator[1], http, api_key="sk_test_wrong")
    with pytest.raises(ProviderMisconfigured):
        await provider.initiate(card_payment())


async def test_unreachable_stripe_is_unavailable(http):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    provider = stripe_provider(f"http://127.0.0.1:{closed_port}", http)
    with pytest.raises(VendorUnavailable):
        await provider.initiate(card_payment())
