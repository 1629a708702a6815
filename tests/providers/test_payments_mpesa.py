"""The M-Pesa adapter against the Daraja emulator over loopback HTTP."""

import asyncio
import base64
import socket
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import httpx
import pytest

from providers.emulators import (
    DARAJA_SANDBOX,
    DarajaSandbox,
    DarajaSettings,
    StkScenario,
    create_daraja_emulator,
    serve_emulator,
)
from providers.errors import ProviderMisconfigured, SignatureInvalid, VendorRejected, VendorUnavailable
from providers.payments import MpesaProvider, MpesaSettings, PaymentOutcome, PaymentRequest
from tests.providers.payment_harness import WebhookInbox, serve_webhook_inbox, vendor_http_client

CALLBACK_TOKEN = "callback-token-0123456789abcdef"
UNMAPPED_CODE_PHONE = "254700000009"


@pytest.fixture
async def inbox() -> AsyncIterator[WebhookInbox]:
    async with serve_webhook_inbox({"ResultCode": 0, "ResultDesc": "Accepted"}) as callbacks:
        yield callbacks


@pytest.fixture
def daraja_settings() -> DarajaSettings:
    scenarios = {**DarajaSettings().phone_scenarios, UNMAPPED_CODE_PHONE: StkScenario(4242)}
    return DarajaSettings(callback_delay_seconds=0, phone_scenarios=scenarios)


@pytest.fixture
async def daraja(daraja_settings: DarajaSettings, inbox: WebhookInbox) -> AsyncIterator[tuple[DarajaSandbox, str]]:
    # Depending on the inbox makes the emulator stop first, so no callback is left hanging at teardown.
    app = create_daraja_emulator(daraja_settings)
    async with serve_emulator(app) as url:
        yield app[DARAJA_SANDBOX], url


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with vendor_http_client() as client:
        yield client


def mpesa_provider(
    settings: DarajaSettings, base_url: str, callback_url: str, http: httpx.AsyncClient, **overrides: object
) -> MpesaProvider:
    mpesa = MpesaSettings.model_validate(
        {
            "base_url": base_url,
            "consumer_key": settings.consumer_key,
            "consumer_secret": settings.consumer_secret,
            "passkey": settings.passkey,
            "shortcode": settings.shortcode,
            **overrides,
        }
    )
    return MpesaProvider(mpesa, http, callback_url=callback_url, callback_token=CALLBACK_TOKEN)


@pytest.fixture
def mpesa(daraja, inbox, daraja_settings, http) -> MpesaProvider:
    return mpesa_provider(daraja_settings, daraja[1], f"{inbox.url}/mpesa", http)


def payment(phone: str = "0712 345 678", amount_minor: int = 15_000, currency: str = "KES") -> PaymentRequest:
    return PaymentRequest(
        merchant_reference="pay_01J9Z-STAY-0042",
        amount_minor=amount_minor,
        currency=currency,
        description="Stay at Diani Beach Cottage, 2 nights",
        idempotency_key="idem-1",
        phone=phone,
    )


async def test_twenty_concurrent_callers_share_one_token_refresh(mpesa, daraja):
    sandbox, _ = daraja
    tokens = await asyncio.gather(*(mpesa.access_token() for _ in range(20)))
    assert len(set(tokens)) == 1
    assert sandbox.token_requests == 1
    await asyncio.gather(*(mpesa.access_token() for _ in range(20)))
    assert sandbox.token_requests == 1


@pytest.mark.parametrize("daraja_settings", [DarajaSettings(token_lifetime_seconds=30, callback_delay_seconds=0)])
async def test_token_refreshed_before_it_expires(mpesa, daraja):
    sandbox, _ = daraja
    first = await mpesa.access_token()
    second = await mpesa.access_token()
    assert first != second
    assert sandbox.token_requests == 2
    await asyncio.gather(*(mpesa.access_token() for _ in range(20)))
    assert sandbox.token_requests == 3


async def test_token_refused_by_daraja_is_replaced_once(mpesa, daraja):
    sandbox, _ = daraja
    await mpesa.access_token()
    sandbox.revoke_tokens()
    initiation = await mpesa.initiate(payment())
    assert initiation.reference in sandbox.pushes
    assert sandbox.token_requests == 2


async def test_bad_consumer_secret_is_a_misconfiguration(daraja, inbox, daraja_settings, http):
    provider = mpesa_provider(daraja_settings, daraja[1], f"{inbox.url}/mpesa", http, consumer_secret="not-the-secret")
    with pytest.raises(ProviderMisconfigured):
        await provider.access_token()


async def test_stk_push_accepted_with_password_timestamp_and_normalised_phone(mpesa, daraja):
    sandbox, _ = daraja
    initiation = await mpesa.initiate(payment())
    assert initiation.reference.startswith("ws_CO_")
    assert initiation.outcome is PaymentOutcome.PENDING
    assert (initiation.charged_amount_minor, initiation.charged_currency) == (15_000, "KES")
    assert initiation.customer_message
    push = sandbox.pushes[initiation.reference]
    assert push.msisdn == "254712345678"
    assert push.amount == 150
    assert push.account_reference == "pay01J9ZSTAY"
    assert push.callback_url.endswith(f"/webhooks/mpesa/{CALLBACK_TOKEN}")


async def test_daraja_refuses_a_timestamp_not_in_east_africa_time(mpesa, daraja, http):
    sandbox, url = daraja
    utc_timestamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    shortcode, passkey = sandbox.settings.shortcode, sandbox.settings.passkey
    response = await http.post(
        f"{url}/mpesa/stkpushquery/v1/query",
        json={
            "BusinessShortCode": shortcode,
            "Password": base64.b64encode(f"{shortcode}{passkey}{utc_timestamp}".encode()).decode(),
            "Timestamp": utc_timestamp,
            "CheckoutRequestID": "ws_CO_000000000000",
        },
        headers={"Authorization": f"Bearer {await mpesa.access_token()}"},
    )
    assert response.status_code == 400
    assert response.json()["errorMessage"] == "Bad Request - Invalid Timestamp"


async def test_wrong_passkey_is_refused_by_daraja(daraja, inbox, daraja_settings, http):
    provider = mpesa_provider(daraja_settings, daraja[1], f"{inbox.url}/mpesa", http, passkey="wrong-passkey")
    with pytest.raises(ProviderMisconfigured):
        await provider.initiate(payment())
    assert daraja[0].pushes == {}


@pytest.mark.parametrize(
    ("amount_minor", "currency", "phone"),
    [
        (15_050, "KES", "0712345678"),
        (50, "KES", "0712345678"),
        (150_000_100, "KES", "0712345678"),
        (15_000, "USD", "0712345678"),
        (15_000, "KES", "0201234567"),
        (15_000, "KES", "not a phone"),
    ],
)
async def test_requests_mpesa_cannot_take_are_rejected_before_calling(mpesa, daraja, amount_minor, currency, phone):
    with pytest.raises(VendorRejected):
        await mpesa.initiate(payment(phone=phone, amount_minor=amount_minor, currency=currency))
    assert daraja[0].token_requests == 0


async def test_unreachable_daraja_is_unavailable(inbox, daraja_settings, http):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    provider = mpesa_provider(daraja_settings, f"http://127.0.0.1:{closed_port}", inbox.url, http)
    with pytest.raises(VendorUnavailable) as raised:
        await provider.initiate(payment())
    assert isinstance(raised.value.__cause__, httpx.HTTPError)


async def test_successful_callback_is_parsed(mpesa, inbox):
    initiation = await mpesa.initiate(payment())
    callback = await inbox.next()
    [event] = await mpesa.parse_webhook(callback.headers, callback.body, path_token=callback.path_token)
    assert event.reference == initiation.reference
    assert event.outcome is PaymentOutcome.SUCCEEDED
    assert (event.amount_minor, event.currency) == (15_000, "KES")
    assert event.receipt and len(event.receipt) == 10
    assert event.vendor_code == "0"
    # The body's digest ends the key: a retry of this callback is the same statement, another body is not.
    assert event.dedupe_key.startswith(f"mpesa:{initiation.reference}:0:")
    assert (event.unsigned, event.doubt, event.payer_phone) == (True, None, "254712345678")
    assert event.occurred_at is not None and event.occurred_at.tzinfo == timezone.utc
    assert event.raw["Body"]["stkCallback"]["CheckoutRequestID"] == initiation.reference


@pytest.mark.parametrize(
    ("phone", "outcome", "code"),
    [
        ("254700000001", PaymentOutcome.CANCELLED, "1032"),
        ("254700000002", PaymentOutcome.FAILED, "2001"),
        ("254700000003", PaymentOutcome.FAILED, "1037"),
        ("254700000004", PaymentOutcome.FAILED, "1"),
        (UNMAPPED_CODE_PHONE, PaymentOutcome.UNKNOWN, "4242"),
    ],
)
async def test_failed_callbacks_are_parsed(mpesa, inbox, phone, outcome, code):
    initiation = await mpesa.initiate(payment(phone=phone))
    callback = await inbox.next()
    [event] = await mpesa.parse_webhook(callback.headers, callback.body, path_token=callback.path_token)
    assert (event.reference, event.outcome, event.vendor_code) == (initiation.reference, outcome, code)
    assert event.amount_minor is None and event.receipt is None
    assert event.reason.endswith(".")


async def test_callback_with_wrong_path_token_or_shape_is_refused(mpesa, inbox):
    await mpesa.initiate(payment())
    callback = await inbox.next()
    for token in (None, "", CALLBACK_TOKEN[:-1] + "x"):
        with pytest.raises(SignatureInvalid):
            await mpesa.parse_webhook(callback.headers, callback.body, path_token=token)
    for malformed in (b"not json", b'{"Body": {}}', b"[]"):
        with pytest.raises(SignatureInvalid):
            await mpesa.parse_webhook(callback.headers, malformed, path_token=CALLBACK_TOKEN)


@pytest.mark.parametrize("daraja_settings", [DarajaSettings(callback_delay_seconds=3600)])
async def test_query_answers_pending_then_the_settled_result(mpesa, daraja):
    sandbox, _ = daraja
    initiation = await mpesa.initiate(payment(phone="254700000005"))
    pending = await mpesa.query_status(initiation.reference)
    assert pending.outcome is PaymentOutcome.PENDING
    sandbox.settle_now(initiation.reference)
    settled = await mpesa.query_status(initiation.reference)
    assert (settled.outcome, settled.vendor_code) == (PaymentOutcome.SUCCEEDED, "0")
    assert settled.dedupe_key == f"mpesa:{initiation.reference}:0"
    assert sandbox.callbacks == []


@pytest.mark.parametrize("daraja_settings", [DarajaSettings(callback_delay_seconds=3600)])
async def test_query_reports_a_cancelled_push(mpesa, daraja):
    sandbox, _ = daraja
    initiation = await mpesa.initiate(payment(phone="254700000001"))
    sandbox.settle_now(initiation.reference)
    settled = await mpesa.query_status(initiation.reference)
    assert (settled.outcome, settled.vendor_code) == (PaymentOutcome.CANCELLED, "1032")


async def test_query_of_an_unknown_checkout_is_rejected(mpesa):
    with pytest.raises(VendorRejected):
        await mpesa.query_status("ws_CO_000000000000")
