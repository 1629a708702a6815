"""What the Daraja emulator holds: its settings and test phones, tokens, the money it moved, and what it posts back."""

import asyncio
import re
import secrets
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Literal

import orjson
from aiohttp import web
from pydantic import SecretStr

from providers.emulators.daraja_certificate import InitiatorCertificate, issue_initiator_certificate
from providers.emulators.notifications import Delivery, NotificationDispatcher
from providers.payments.mpesa import MpesaSettings

EAT = timezone(timedelta(hours=3), "EAT")
MAX_STK_AMOUNT = 150_000
MSISDN = re.compile(r"^254[17]\d{8}$")
SHORTCODE = re.compile(r"^\d{5,7}$")


@dataclass(frozen=True)
class StkScenario:
    """What the payer's phone does with a push: the final result, and whether Safaricom calls back."""

    result_code: int = 0
    sends_callback: bool = True


TEST_PHONES: Mapping[str, StkScenario] = {
    "254700000001": StkScenario(1032),
    "254700000002": StkScenario(2001),
    "254700000003": StkScenario(1037),
    "254700000004": StkScenario(1),
    "254700000005": StkScenario(0, sends_callback=False),
}
"""Sandbox phone numbers and their fate; every other number pays successfully."""


class ResultDelivery(StrEnum):
    """How the result of an asynchronous request (B2C, transaction status, reversal) reaches the application."""

    RESULT = "result"
    # The same Result posted twice at once, as Safaricom does when it retries.
    DUPLICATE = "duplicate"
    # The request timed out in Safaricom's queue: QueueTimeOutURL is called, never ResultURL.
    TIMEOUT = "timeout"
    # Nothing is ever posted: only a transaction status query tells what happened.
    NEVER = "never"
    # The queue times out, and M-Pesa knows nothing of the request until a test lets it through (finish_late_b2c):
    # then the money moves and the Result comes, late.
    LATE = "late"


@dataclass(frozen=True)
class B2cScenario:
    """What happens to a B2C payment to a phone: its result code, how the result arrives, whether money moved."""

    result_code: int = 0
    delivery: ResultDelivery = ResultDelivery.RESULT
    # For TIMEOUT and NEVER: whether the payment went through all the same (a status query finds it) or not.
    processed: bool = True


B2C_TEST_PHONES: Mapping[str, B2cScenario] = {
    "254700000011": B2cScenario(8),
    "254700000012": B2cScenario(delivery=ResultDelivery.TIMEOUT),
    "254700000013": B2cScenario(delivery=ResultDelivery.TIMEOUT, processed=False),
    "254700000014": B2cScenario(delivery=ResultDelivery.DUPLICATE),
    "254700000015": B2cScenario(delivery=ResultDelivery.NEVER),
    "254700000016": B2cScenario(delivery=ResultDelivery.LATE),
}
"""Sandbox receiving phones and the fate of a B2C payment to them; every other number is paid with one result. A
reversal of a payment made from one of the TIMEOUT or NEVER phones is delivered the same way (and made, or not, as
`processed` says)."""

RESULT_DESCRIPTIONS: Mapping[int | str, str] = {
    0: "The service request is processed successfully.",
    1: "The balance is insufficient for the transaction.",
    8: "The receiver's account would exceed its maximum balance.",
    15: "Duplicate OriginatorConversationID detected.",
    1032: "Request cancelled by user",
    1037: "DS timeout user cannot be reached",
    2001: "The initiator information is invalid.",
    "R000001": "The transaction has already been reversed.",
    "R000002": "The OriginalTransactionID is invalid.",
}


@dataclass(frozen=True)
class DarajaSettings:
    consumer_key: str = "lango-sandbox-key"
    consumer_secret: str = "lango-sandbox-secret"
    shortcode: str = "174379"
    passkey: str = "lango-sandbox-passkey"
    # The B2C shortcode that pays out, and the API operator allowed to initiate payments from it.
    b2c_shortcode: str = "600996"
    initiator_name: str = "lango-sandbox-initiator"
    initiator_password: str = "lango-sandbox-initiator-password"
    # Whole KES in the B2C utility account when the emulator starts.
    b2c_float: int = 5_000_000
    callback_delay_seconds: float = 3.0
    token_lifetime_seconds: int = 3599
    phone_scenarios: Mapping[str, StkScenario] = field(default_factory=lambda: dict(TEST_PHONES))
    b2c_scenarios: Mapping[str, B2cScenario] = field(default_factory=lambda: dict(B2C_TEST_PHONES))
    # Records per Pull Transactions answer (Safaricom's is 1000).
    pull_page_size: int = 1000


@dataclass
class MpesaTransaction:
    """Money the emulator moved: what a transaction status query finds and a reversal returns."""

    receipt: str
    kind: Literal["stk", "paybill", "b2c", "reversal"]
    amount: int
    msisdn: str
    conversation_id: str
    originator_conversation_id: str | None = None
    reversed_by: str | None = None
    # What a transaction status query says of it (unless reversed): a B2C request that reached M-Pesa and was not
    # processed is on record as Failed.
    status: Literal["Completed", "Failed"] = "Completed"
    completed_at: datetime = field(default_factory=lambda: datetime.now(EAT))
    # The account number the payer gave (STK AccountReference, Paybill BillRefNumber): Pull Transactions shows it.
    account_reference: str = ""


@dataclass
class StkPush:
    merchant_request_id: str
    checkout_request_id: str
    amount: int
    msisdn: str
    account_reference: str
    callback_url: str
    scenario: StkScenario
    settled: bool = False
    receipt: str | None = None


@dataclass
class B2cPayment:
    """One accepted B2C request, until its result is out."""

    originator_conversation_id: str
    conversation_id: str
    command_id: str
    amount: int
    msisdn: str
    remarks: str
    occasion: str
    result_url: str
    timeout_url: str
    scenario: B2cScenario
    # False when the InitiatorName or SecurityCredential did not check out: the result then says 2001.
    initiator_valid: bool = True
    duplicate: bool = False
    settled: bool = False
    result_code: int | None = None
    receipt: str | None = None


@dataclass
class C2bRegistration:
    confirmation_url: str
    validation_url: str
    response_type: Literal["Completed", "Cancelled"]
    version: Literal["v1", "v2"]


def whole_amount(value: Any, low: int = 1, high: int = MAX_STK_AMOUNT) -> int | None:
    """A whole number of shillings between `low` and `high`, as a JSON integer or a string of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        amount = int(value)
        return amount if low <= amount <= high else None
    return None


def new_receipt() -> str:
    """An M-Pesa receipt (transaction id): ten upper-case letters and digits."""
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(10))


def new_conversation_id() -> str:
    return f"AG_{datetime.now(EAT):%Y%m%d}_{secrets.token_hex(10)}"


class DarajaSandbox:
    """The emulator's state: issued tokens, pushes, payouts, the money moved and what was posted, open to tests."""

    def __init__(self, settings: DarajaSettings, certificate: InitiatorCertificate | None = None) -> None:
        self.settings = settings
        self.certificate = certificate or issue_initiator_certificate()
        self.token_requests = 0
        self.pushes: dict[str, StkPush] = {}
        self.b2c_payments: dict[str, B2cPayment] = {}
        self.transactions: dict[str, MpesaTransaction] = {}
        self.c2b_registrations: dict[str, C2bRegistration] = {}
        # Results (transaction status, reversal) waiting out the emulator's delay: (ResultURL, body).
        self.pending_results: list[tuple[str, dict[str, Any]]] = []
        self.utility_balance = settings.b2c_float
        self.notifications = NotificationDispatcher()
        self._tokens: dict[str, float] = {}

    @property
    def callbacks(self) -> list[Delivery]:
        return self.notifications.deliveries

    def adapter_settings(self, deployment: MpesaSettings, url: str) -> MpesaSettings:
        """The deployment's M-Pesa settings pointed at this emulator, served at `url`, with its app, shortcodes,
        initiator and certificate."""
        settings = self.settings
        return deployment.model_copy(
            update={
                "base_url": url,
                "consumer_key": SecretStr(settings.consumer_key),
                "consumer_secret": SecretStr(settings.consumer_secret),
                "passkey": SecretStr(settings.passkey),
                "shortcode": settings.shortcode,
                "b2c_shortcode": settings.b2c_shortcode,
                "initiator_name": settings.initiator_name,
                "initiator_password": SecretStr(settings.initiator_password),
                "certificate": self.certificate.certificate_pem,
            }
        )

    def issue_token(self) -> str:
        self.token_requests += 1
        token = secrets.token_urlsafe(21)
        self._tokens[token] = time.monotonic() + self.settings.token_lifetime_seconds
        return token

    def token_valid(self, token: str) -> bool:
        return self._tokens.get(token, 0.0) > time.monotonic()

    def revoke_tokens(self) -> None:
        self._tokens.clear()

    def initiator_valid(self, name: Any, credential: Any) -> bool:
        """Whether the API operator is this shortcode's and the SecurityCredential opens to its password."""
        if name != self.settings.initiator_name or not isinstance(credential, str):
            return False
        return self.certificate.decrypt_credential(credential) == self.settings.initiator_password

    def record_transaction(self, transaction: MpesaTransaction) -> MpesaTransaction:
        self.transactions[transaction.receipt] = transaction
        return transaction

    def transaction_for(self, reference: str) -> MpesaTransaction | None:
        """A transaction by its receipt, or by the OriginatorConversationID of the request that made it."""
        if reference in self.transactions:
            return self.transactions[reference]
        return next((t for t in self.transactions.values() if t.originator_conversation_id == reference), None)

    def accept_push(self, push: StkPush) -> None:
        self.pushes[push.checkout_request_id] = push
        self.notifications.spawn(self._settle_push_later(push))

    def settle_now(self, checkout_request_id: str) -> None:
        """Finish a push at once, as if the payer answered the prompt right now."""
        push = self.pushes[checkout_request_id]
        if push.settled:
            return
        push.settled = True
        if push.scenario.result_code == 0:
            push.receipt = new_receipt()
            self.record_transaction(MpesaTransaction(
                push.receipt, "stk", push.amount, push.msisdn, push.merchant_request_id, account_reference=push.account_reference
            ))
        if push.scenario.sends_callback:
            self.post_json(push.callback_url, callback_payload(push))

    async def _settle_push_later(self, push: StkPush) -> None:
        # The delay stands for the payer reading the prompt and typing a PIN.
        await asyncio.sleep(self.settings.callback_delay_seconds)
        self.settle_now(push.checkout_request_id)

    def post_json(self, url: str, payload: dict[str, Any], *, times: int = 1) -> None:
        """Post `payload` to the application `times` times at once (Safaricom's duplicate deliveries)."""
        for _ in range(times):
            self.notifications.post(url, orjson.dumps(payload), {"Content-Type": "application/json"})


def callback_payload(push: StkPush) -> dict[str, Any]:
    """Safaricom's STK callback for a push: its result, and on success the receipt and what was paid."""
    code = push.scenario.result_code
    callback: dict[str, Any] = {
        "MerchantRequestID": push.merchant_request_id,
        "CheckoutRequestID": push.checkout_request_id,
        "ResultCode": code,
        "ResultDesc": RESULT_DESCRIPTIONS.get(code, "The service request failed."),
    }
    if code == 0:
        callback["CallbackMetadata"] = {
            "Item": [
                {"Name": "Amount", "Value": float(push.amount)},
                {"Name": "MpesaReceiptNumber", "Value": push.receipt or new_receipt()},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": int(datetime.now(EAT).strftime("%Y%m%d%H%M%S"))},
                {"Name": "PhoneNumber", "Value": int(push.msisdn)},
            ]
        }
    return {"Body": {"stkCallback": callback}}


DARAJA_SANDBOX = web.AppKey("daraja_sandbox", DarajaSandbox)


def daraja_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"requestId": secrets.token_hex(8), "errorCode": code, "errorMessage": message}, status=status
    )


def bad_request(field_name: str) -> web.Response:
    return daraja_error(400, "400.002.02", f"Bad Request - Invalid {field_name}")


async def bearer_body(request: web.Request) -> dict[str, Any] | web.Response:
    """The JSON object body of a call carrying a bearer token this emulator issued, or the error Daraja answers."""
    sandbox = request.app[DARAJA_SANDBOX]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not sandbox.token_valid(token):
        return daraja_error(404, "404.001.03", "Invalid Access Token")
    try:
        body = await request.json()
    except ValueError:
        return daraja_error(400, "400.002.05", "Invalid Request Payload")
    if not isinstance(body, dict):
        return daraja_error(400, "400.002.05", "Invalid Request Payload")
    return body
