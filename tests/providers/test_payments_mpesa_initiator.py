"""The M-Pesa adapter's initiator APIs (B2C, transaction status, reversal) and Paybill (C2B) against the Daraja
emulator over loopback HTTP: Safaricom's request checks, asynchronous Results, timeouts and duplicates."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiohttp import web
from pydantic import SecretStr, ValidationError

from providers.emulators import (
    DARAJA_SANDBOX,
    DarajaSandbox,
    DarajaSettings,
    create_daraja_emulator,
    finish_b2c,
    finish_late_b2c,
    pay_bill,
    serve_emulator,
)
from providers.errors import ProviderMisconfigured, VendorRejected
from providers.payments import MpesaProvider, MpesaSettings
from providers.payments.mpesa import TransactionUnknown

TOKEN = "callback-token-0123456789abcdef"
PAYEE = "254712345678"
TIMES_OUT_AFTER_PAYING = "254700000012"
TIMES_OUT_UNPAID = "254700000013"
RESULT_TWICE = "254700000014"
PAID_LATE = "254700000016"


@dataclass(frozen=True)
class Posted:
    path: str
    body: dict[str, Any]


class Application:
    """Stands in for the gateway's routes: records what Daraja posts, answers validation as told."""

    def __init__(self) -> None:
        self.url = ""
        self.validation_answer: dict[str, Any] = {"ResultCode": "0", "ResultDesc": "Accepted"}
        self.posted: asyncio.Queue[Posted] = asyncio.Queue()

    async def receive(self, request: web.Request) -> web.Response:
        await self.posted.put(Posted(request.path, orjson.loads(await request.read())))
        answer = self.validation_answer if request.path.startswith("/paybill/validation") else {"ResultCode": 0}
        return web.json_response(answer)

    async def next(self) -> Posted:
        return await asyncio.wait_for(self.posted.get(), timeout=5)


@pytest.fixture
async def application() -> AsyncIterator[Application]:
    app = Application()
    web_app = web.Application()
    web_app.router.add_post("/{tail:.*}", app.receive)
    async with serve_emulator(web_app) as url:
        app.url = url
        yield app


@pytest.fixture
def daraja_settings() -> DarajaSettings:
    return DarajaSettings(callback_delay_seconds=0)


@pytest.fixture
async def daraja(daraja_settings: DarajaSettings, application: Application) -> AsyncIterator[tuple[DarajaSandbox, str]]:
    app = create_daraja_emulator(daraja_settings)
    async with serve_emulator(app) as url:
        yield app[DARAJA_SANDBOX], url


def provider(sandbox: DarajaSandbox, url: str, application: Application, http: httpx.AsyncClient, **overrides: Any) -> MpesaProvider:
    settings = sandbox.adapter_settings(MpesaSettings(), url).model_copy(update=overrides)
    return MpesaProvider(settings, http, callback_url=f"{application.url}/mpesa", callback_token=TOKEN)


@pytest.fixture
def mpesa(daraja, application, http) -> MpesaProvider:
    return provider(*daraja, application, http)


async def result_of(mpesa: MpesaProvider, application: Application) -> tuple[str, Any]:
    posted = await application.next()
    timed_out = "/timeout/" in posted.path
    assert posted.path.endswith(f"/{TOKEN}")
    return posted.path, mpesa.parse_initiator_result(orjson.dumps(posted.body), path_token=TOKEN, timed_out=timed_out)


async def test_b2c_pays_the_phone_once_and_posts_its_result(mpesa, daraja, application):
    sandbox, _ = daraja
    ack = await mpesa.b2c_payment("payout-1", "0712 345 678", 150_000, "Host payout")
    assert ack.originator_conversation_id == "payout-1"
    path, result = await result_of(mpesa, application)
    assert path == f"/mpesa/b2c/result/{TOKEN}"
    assert result.succeeded and result.originator_conversation_id == "payout-1"
    assert result.amount_minor == 150_000 and result.receipt in sandbox.transactions
    assert result.receiver.startswith(PAYEE)
    assert sandbox.utility_balance == DarajaSettings().b2c_float - 1_500


async def test_the_same_originator_id_never_pays_twice(mpesa, daraja, application):
    sandbox, _ = daraja
    await mpesa.b2c_payment("payout-2", PAYEE, 20_000, "Host payout")
    await mpesa.b2c_payment("payout-2", PAYEE, 20_000, "Host payout")
    codes = sorted([(await result_of(mpesa, application))[1].result_code for _ in range(2)])
    assert codes == ["0", "15"]
    assert sandbox.utility_balance == DarajaSettings().b2c_float - 200
    assert [t.kind for t in sandbox.transactions.values()] == ["b2c"]


async def test_a_wrong_initiator_password_fails_in_the_result(daraja, application, http):
    sandbox, url = daraja
    mpesa = provider(sandbox, url, application, http, initiator_password=None)
    with pytest.raises(ProviderMisconfigured):
        await mpesa.b2c_payment("payout-3", PAYEE, 20_000, "Host payout")
    mpesa = provider(sandbox, url, application, http, initiator_password=SecretStr("not-the-password"))
    await mpesa.b2c_payment("payout-3", PAYEE, 20_000, "Host payout")
    _, result = await result_of(mpesa, application)
    assert result.result_code == "2001" and not result.succeeded
    assert sandbox.transactions == {}


@pytest.mark.parametrize("daraja_settings", [DarajaSettings(callback_delay_seconds=0, b2c_float=100)])
async def test_an_empty_utility_account_fails_the_payment(mpesa, daraja, application):
    await mpesa.b2c_payment("payout-4", PAYEE, 20_000, "Host payout")
    _, result = await result_of(mpesa, application)
    assert result.result_code == "1"


async def test_amounts_daraja_refuses_are_refused_before_sending(mpesa, daraja):
    sandbox, _ = daraja
    for amount in (500, 25_000_100, 1_050):
        with pytest.raises(VendorRejected):
            await mpesa.b2c_payment("payout-5", PAYEE, amount, "Host payout")
    assert sandbox.b2c_payments == {}


async def test_the_emulator_checks_what_safaricom_checks(mpesa, daraja, http):
    sandbox, url = daraja
    token = await mpesa.access_token()
    valid = {"OriginatorConversationID": "x-1", "InitiatorName": "a", "SecurityCredential": "b", "CommandID": "BusinessPayment",
             "Amount": 100, "PartyA": sandbox.settings.b2c_shortcode, "PartyB": PAYEE, "Remarks": "ok",
             "QueueTimeOutURL": "https://example.org/t", "ResultURL": "https://example.org/r", "Occasion": ""}  # fmt: skip
    no_token = await http.post(f"{url}/mpesa/b2c/v3/paymentrequest", json=valid)
    assert no_token.status_code == 404 and no_token.json()["errorCode"] == "404.001.03"
    for change in ({"Amount": 9}, {"CommandID": "Withdraw"}, {"PartyA": "123456"}, {"PartyB": "0712"}, {"ResultURL": "ftp://x"},
                   {"OriginatorConversationID": None}):  # fmt: skip
        answer = await http.post(f"{url}/mpesa/b2c/v3/paymentrequest", json={**valid, **change},
                                 headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert answer.status_code == 400, change
    assert sandbox.b2c_payments == {}


@pytest.mark.parametrize("daraja_settings", [DarajaSettings(callback_delay_seconds=3600)])
async def test_a_payment_still_queued_is_no_transaction_yet(mpesa, daraja, application):
    sandbox, _ = daraja
    await mpesa.b2c_payment("payout-6", TIMES_OUT_AFTER_PAYING, 30_000, "Host payout")
    with pytest.raises(TransactionUnknown):
        await mpesa.transaction_status(originator_conversation_id="payout-6")
    finish_b2c(sandbox, "payout-6")
    path, timeout = await result_of(mpesa, application)
    assert path == f"/mpesa/b2c/timeout/{TOKEN}" and timeout.timed_out and not timeout.succeeded


async def test_status_query_finds_the_payment_behind_a_timeout(mpesa, daraja, application):
    await mpesa.b2c_payment("payout-7", TIMES_OUT_AFTER_PAYING, 30_000, "Host payout")
    _, timeout = await result_of(mpesa, application)
    assert timeout.timed_out
    await mpesa.transaction_status(originator_conversation_id="payout-7")
    path, status = await result_of(mpesa, application)
    assert path == f"/mpesa/status/result/{TOKEN}"
    assert status.succeeded and status.transaction_status == "Completed"
    assert status.queried_originator_conversation_id == "payout-7" and status.amount_minor == 30_000 and status.receipt


async def test_status_query_finds_a_payment_that_timed_out_unpaid_failed(mpesa, daraja, application):
    sandbox, _ = daraja
    balance = sandbox.utility_balance
    await mpesa.b2c_payment("payout-8", TIMES_OUT_UNPAID, 30_000, "Host payout")
    _, timeout = await result_of(mpesa, application)
    assert timeout.timed_out
    await mpesa.transaction_status(originator_conversation_id="payout-8")
    _, status = await result_of(mpesa, application)
    assert status.succeeded and status.transaction_status == "Failed" and status.queried_originator_conversation_id == "payout-8"
    assert sandbox.utility_balance == balance


async def test_a_late_payment_is_unknown_until_mpesa_makes_it(mpesa, daraja, application):
    sandbox, _ = daraja
    await mpesa.b2c_payment("payout-10", PAID_LATE, 30_000, "Host payout")
    _, timeout = await result_of(mpesa, application)
    assert timeout.timed_out
    with pytest.raises(TransactionUnknown):
        await mpesa.transaction_status(originator_conversation_id="payout-10")
    finish_late_b2c(sandbox, "payout-10")
    _, paid = await result_of(mpesa, application)
    assert paid.succeeded and paid.amount_minor == 30_000 and paid.receipt == sandbox.transaction_for("payout-10").receipt


async def test_a_duplicated_result_is_posted_twice(mpesa, daraja, application):
    await mpesa.b2c_payment("payout-9", RESULT_TWICE, 30_000, "Host payout")
    first, second = [(await result_of(mpesa, application))[1] for _ in range(2)]
    assert first == second and first.succeeded


async def test_a_collected_payment_is_reversed_whole_and_once(mpesa, daraja, application):
    sandbox, _ = daraja
    await mpesa.c2b_register(f"{application.url}/paybill/confirmation/{TOKEN}", f"{application.url}/paybill/validation/{TOKEN}")
    paid = await pay_bill(sandbox, PAYEE, 700, "BK7H3KQ2")
    while not application.posted.empty():
        application.posted.get_nowait()
    await mpesa.reversal(paid.trans_id, 35_000, "Partial")
    _, partial = await result_of(mpesa, application)
    assert partial.result_code == "R000002"
    await mpesa.reversal(paid.trans_id, 70_000, "Unmatched payment")
    _, reversed_ = await result_of(mpesa, application)
    assert reversed_.succeeded and reversed_.transaction_id != paid.trans_id
    await mpesa.reversal(paid.trans_id, 70_000, "Unmatched payment")
    _, again = await result_of(mpesa, application)
    assert again.result_code == "R000001"
    assert sandbox.transactions[paid.trans_id].reversed_by == reversed_.transaction_id


async def test_paybill_asks_validation_then_confirms(mpesa, daraja, application):
    sandbox, _ = daraja
    with pytest.raises(VendorRejected):
        await mpesa.c2b_register(f"{application.url}/mpesa/confirmation", f"{application.url}/mpesa/validation")
    await mpesa.c2b_register(f"{application.url}/paybill/confirmation/{TOKEN}", f"{application.url}/paybill/validation/{TOKEN}")
    paid = await pay_bill(sandbox, PAYEE, 700, "bk7h 3kq2", confirmations=2)
    assert paid.accepted and paid.confirmation_statuses == [200, 200]
    validation, *confirmations = [await application.next() for _ in range(3)]
    assert validation.path == f"/paybill/validation/{TOKEN}"
    assert {posted.path for posted in confirmations} == {f"/paybill/confirmation/{TOKEN}"}
    notice = mpesa.parse_paybill(orjson.dumps(confirmations[0].body), path_token=TOKEN)
    assert (notice.trans_id, notice.amount_minor, notice.account_reference, notice.msisdn) == (paid.trans_id, 70_000, "BK7H3KQ2", PAYEE)

    application.validation_answer = {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}
    refused = await pay_bill(sandbox, PAYEE, 700, "NOSUCHREF")
    assert not refused.accepted and refused.trans_id not in sandbox.transactions
    assert (await application.next()).path.startswith("/paybill/validation")
    assert application.posted.empty()


def test_the_certificate_setting_takes_pem_text_or_a_path(tmp_path: Path, daraja):
    sandbox, _ = daraja
    pem = sandbox.certificate.certificate_pem
    cer = tmp_path / "ProductionCertificate.cer"
    cer.write_text(pem)
    assert MpesaSettings(certificate=str(cer)).certificate == pem
    for wrong in (str(tmp_path / "missing.cer"), "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----"):
        with pytest.raises(ValidationError):
            MpesaSettings(certificate=wrong)
