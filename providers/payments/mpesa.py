"""M-Pesa Express (STK push) through Safaricom's Daraja API: push, callback parsing and status query."""

import base64
import hashlib
import hmac
import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, ClassVar, Literal

import httpx
import orjson
import phonenumbers
from pydantic import BaseModel, Field, SecretStr, StrictFloat, StrictInt, StrictStr, StringConstraints, ValidationError

from providers.errors import ProviderError, ProviderMisconfigured, SignatureInvalid, VendorRejected, VendorUnavailable
from providers.payments.base import Initiation, NormalizedPaymentEvent, PaymentProvider, PaymentRequest, RefundResult
from providers.payments.mpesa_credential import Certificate, load_certificate, security_credential
from providers.payments.mpesa_pull import PULL_PATH, movement, pull_query, pulled_records
from providers.payments.mpesa_results import (
    DarajaAcknowledgement,
    InitiatorResult,
    PaybillNotice,
    parse_initiator_result,
    parse_paybill_notice,
)
from providers.payments.outcomes import MPESA_PENDING, MPESA_RESULT_CODES, classify
from providers.payments.statements import MovementKind, StatementSource, VendorTransaction
from providers.payments.tokens import AccessTokenCache
from providers.settings import HttpUrl, Network, VendorSettings
from providers.vendor_http import call_vendor, json_body

VENDOR = "mpesa"
EAT = timezone(timedelta(hours=3), "EAT")
MAX_STK_AMOUNT_KES = 150_000
# Daraja's bounds for one B2C payment.
MIN_B2C_AMOUNT_KES = 10
MAX_B2C_AMOUNT_KES = 250_000
_KES_MINOR_PER_UNIT = 100
_MSISDN = re.compile(r"^254[17]\d{8}$")
_RECEIPT = re.compile(r"^[A-Z0-9]{8,20}$")
_INVALID_TOKEN = "404.001.03"
_STILL_PROCESSING = "500.001.1001"
# A status query Daraja refuses for the transaction it names ("Bad Request - Invalid TransactionID"): no such record.
_UNKNOWN_TRANSACTION_FIELDS = ("Invalid TransactionID", "Invalid OriginalConversationID")
# A Daraja token is fetched again this long before it expires.
TOKEN_REFRESH_MARGIN_S = 60.0

# Where Safaricom posts M-Pesa callbacks from, as its Daraja go-live documentation lists them; found republished
# at https://pesafy-package.vercel.app/guide/webhooks ("Official Safaricom IP whitelist") and in the allowlist of
# mpesakit (http://mpesakit.dev/webhooks-best-practices). Safaricom may add addresses: keep the setting current.
SAFARICOM_CALLBACK_SOURCES = [
    "196.201.214.200",
    "196.201.214.206",
    "196.201.213.114",
    "196.201.214.207",
    "196.201.214.208",
    "196.201.213.44",
    "196.201.212.127",
    "196.201.212.138",
    "196.201.212.129",
    "196.201.212.136",
    "196.201.212.74",
    "196.201.212.69",
]


class MpesaSettings(VendorSettings):
    """The `payments.mpesa` settings: the Daraja app, the shortcode that collects, and who may call back."""

    section: ClassVar[str] = "payments.mpesa"

    base_url: HttpUrl = "https://sandbox.safaricom.co.ke"
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    passkey: SecretStr | None = None
    shortcode: str | None = Field(None, pattern=r"^\d{5,7}$")
    # The till for CustomerBuyGoodsOnline; defaults to the shortcode.
    party_b: str | None = Field(None, pattern=r"^\d{5,7}$")
    transaction_type: Literal["CustomerPayBillOnline", "CustomerBuyGoodsOnline"] = "CustomerPayBillOnline"
    # The last path segment of the callback URL; generated at start-up in sandbox when unset.
    callback_token: SecretStr | None = Field(None, min_length=16)
    allowed_sources: list[Network] = SAFARICOM_CALLBACK_SOURCES
    timeout_s: float = Field(10.0, gt=0)
    # B2C payouts and refunds, transaction status queries and reversals: the shortcode that pays out (defaults to
    # the shortcode), its API operator, and Safaricom's certificate (production or sandbox: PEM text or a path to
    # the .cer) that the operator's password is encrypted with into the SecurityCredential.
    b2c_shortcode: str | None = Field(None, pattern=r"^\d{5,7}$")
    initiator_name: str | None = Field(None, min_length=1, max_length=64)
    initiator_password: SecretStr | None = None
    certificate: Certificate | None = None
    b2c_command_id: Literal["BusinessPayment", "SalaryPayment", "PromotionPayment"] = "BusinessPayment"
    # What M-Pesa does with a Paybill payment when the validation URL does not answer.
    c2b_response_type: Literal["Completed", "Cancelled"] = "Completed"

    @property
    def has_credentials(self) -> bool:
        """Everything a live Daraja needs: the app's keys, the shortcode and its passkey, and the callback token."""
        return None not in (self.consumer_key, self.consumer_secret, self.passkey, self.shortcode, self.callback_token)

    @property
    def has_initiator(self) -> bool:
        """What B2C, transaction status and reversals need besides the app: the operator and the certificate."""
        return None not in (self.initiator_name, self.initiator_password, self.certificate)


# The callback is unsigned and anyone holding the URL can post to it: every field is bounded, so what is stored is
# what MongoDB can hold (no integer past 64 bits, no nesting, no operator keys), and unknown fields are dropped.
_Text = Annotated[StrictStr, StringConstraints(max_length=200)]
_Scalar = Annotated[StrictInt, Field(ge=-(2**63), lt=2**63)] | StrictFloat | _Text | None


class _CallbackItem(BaseModel):
    Name: _Text
    Value: _Scalar = None


class _CallbackMetadata(BaseModel):
    Item: Annotated[list[_CallbackItem], Field(max_length=20)] = []


class _StkCallback(BaseModel):
    MerchantRequestID: _Text
    CheckoutRequestID: Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)]
    ResultCode: Annotated[int, Field(ge=-(2**31), lt=2**31)]
    ResultDesc: Annotated[StrictStr, StringConstraints(max_length=1000)]
    CallbackMetadata: _CallbackMetadata | None = None


class _CallbackBody(BaseModel):
    stkCallback: _StkCallback


class _CallbackEnvelope(BaseModel):
    Body: _CallbackBody


def normalise_msisdn(phone: str | None) -> str:
    """The payer's number as Daraja wants it (2547xxxxxxxx / 2541xxxxxxxx), from any usual Kenyan spelling."""
    if not phone:
        raise VendorRejected("an M-Pesa payment needs the payer's phone number", vendor=VENDOR)
    try:
        parsed = phonenumbers.parse(phone, "KE")
    except phonenumbers.NumberParseException as exc:
        raise VendorRejected(f"{phone!r} is not a phone number", vendor=VENDOR) from exc
    msisdn = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164).removeprefix("+")
    if not _MSISDN.fullmatch(msisdn):
        raise VendorRejected(f"{phone!r} is not a Kenyan M-Pesa number", vendor=VENDOR)
    return msisdn


def stk_password(shortcode: str, passkey: str, timestamp: str) -> str:
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode()


def _whole_kes(amount_minor: int, currency: str, *, low: int = 1, high: int = MAX_STK_AMOUNT_KES) -> int:
    if currency != "KES":
        raise VendorRejected(f"M-Pesa moves KES, not {currency}", vendor=VENDOR)
    kes, cents = divmod(amount_minor, _KES_MINOR_PER_UNIT)
    if cents:
        raise VendorRejected("M-Pesa moves whole shillings only", vendor=VENDOR)
    if not low <= kes <= high:
        raise VendorRejected(f"M-Pesa moves between {low:,} and {high:,} KES at once here", vendor=VENDOR)
    return kes


def _callback_amount(value: Any) -> int | None:
    """The paid amount in minor units: a JSON number of whole shillings M-Pesa can collect, else None (text, a
    fraction, 1e30 and the like are not what Safaricom sends)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    kes = int(value)
    return kes * _KES_MINOR_PER_UNIT if 1 <= kes <= MAX_STK_AMOUNT_KES else None


def _callback_phone(value: Any) -> str | None:
    """The paying number as the push named it (2547xxxxxxxx); None when missing, masked or garbled."""
    phone = str(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    return phone if _MSISDN.fullmatch(phone) else None


def _success_doubt(metadata: Mapping[str, Any]) -> str | None:
    """Why a success callback cannot settle a payment on its own word, if it cannot."""
    if "Amount" not in metadata:
        return "amount_missing"
    if _callback_amount(metadata["Amount"]) is None:
        return "amount_garbled"
    receipt = metadata.get("MpesaReceiptNumber")
    if not isinstance(receipt, str) or not _RECEIPT.fullmatch(receipt):
        return "receipt_garbled"
    return None


def _transaction_time(value: Any) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%Y%m%d%H%M%S").replace(tzinfo=EAT).astimezone(timezone.utc)
    except ValueError:
        return None


class TransactionUnknown(VendorRejected):
    """Daraja has no record of the transaction a status query names."""


class MpesaProvider(PaymentProvider, StatementSource):
    """Collects KES with an STK push to the payer's phone; Safaricom reports back on the callback route."""

    name: ClassVar[str] = VENDOR
    # Pull Transactions lists what came in to the Paybill; B2C payouts and refunds leave from the B2C shortcode,
    # which Daraja offers no listing of (only a Transaction Status query per receipt, answered asynchronously).
    statement_covers: ClassVar[frozenset[MovementKind]] = frozenset({MovementKind.COLLECTION})

    def __init__(
        self, settings: MpesaSettings, http: httpx.AsyncClient, *, callback_url: str, callback_token: str
    ) -> None:
        """`callback_url` is the route Safaricom calls back (the token is appended to it); `callback_token` the one
        this process accepts: configured, or generated in sandbox."""
        settings.require("consumer_key", "consumer_secret", "passkey", "shortcode", vendor=VENDOR)
        self._settings = settings
        self._http = http
        self._base_url = settings.base_url.rstrip("/")
        self._callback_base = callback_url.rstrip("/")
        self._callback_url = f"{self._callback_base}/{callback_token}"
        self._callback_token = callback_token.encode()
        # Parsed once (the settings checked it is an RSA certificate); None: this deployment has no initiator.
        self._initiator_key = load_certificate(settings.certificate) if settings.has_initiator else None
        self._tokens = AccessTokenCache(self._fetch_token, refresh_margin_seconds=TOKEN_REFRESH_MARGIN_S)

    @property
    def callback_url(self) -> str:
        return self._callback_url

    async def access_token(self) -> str:
        return await self._tokens.get()

    async def _fetch_token(self) -> tuple[str, float]:
        try:
            response = await call_vendor(
                self._http,
                VENDOR,
                "GET",
                f"{self._base_url}/oauth/v1/generate",
                params={"grant_type": "client_credentials"},
                auth=(
                    self._settings.consumer_key.get_secret_value(),
                    self._settings.consumer_secret.get_secret_value(),
                ),
                timeout=self._settings.timeout_s,
            )
        except VendorRejected as exc:
            raise ProviderMisconfigured("Daraja refused the consumer key and secret", vendor=VENDOR) from exc
        body = _daraja_object(json_body(response, VENDOR))
        try:
            return str(body["access_token"]), float(body["expires_in"])
        except (KeyError, ValueError) as exc:
            raise VendorUnavailable(f"Daraja's token answer lacks {exc}", vendor=VENDOR) from exc

    async def _call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST with a bearer token, fetching a new token once if Daraja no longer accepts the cached one."""
        token = await self._tokens.get()
        try:
            return await self._post(path, payload, token)
        except ProviderError as exc:
            if _daraja_error(exc).get("errorCode") != _INVALID_TOKEN:
                raise
        self._tokens.invalidate(token)
        return await self._post(path, payload, await self._tokens.get())

    async def _post(self, path: str, payload: dict[str, Any], token: str) -> dict[str, Any]:
        try:
            response = await call_vendor(
                self._http,
                VENDOR,
                "POST",
                f"{self._base_url}{path}",
                json=payload,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self._settings.timeout_s,
            )
        except VendorUnavailable as exc:
            # Daraja answers a wrong shortcode/passkey with a 500 that no retry will cure.
            if _daraja_error(exc).get("errorMessage") == "Wrong credentials":
                raise ProviderMisconfigured("Daraja refused the shortcode and passkey", vendor=VENDOR) from exc
            raise
        return _daraja_object(json_body(response, VENDOR))

    def _credentials(self) -> dict[str, str]:
        timestamp = datetime.now(EAT).strftime("%Y%m%d%H%M%S")
        shortcode = self._settings.shortcode
        return {
            "BusinessShortCode": shortcode,
            "Password": stk_password(shortcode, self._settings.passkey.get_secret_value(), timestamp),
            "Timestamp": timestamp,
        }

    async def initiate(self, request: PaymentRequest) -> Initiation:
        amount_kes = _whole_kes(request.amount_minor, request.currency)
        msisdn = normalise_msisdn(request.phone)
        payload = {
            **self._credentials(),
            "TransactionType": self._settings.transaction_type,
            "Amount": amount_kes,
            "PartyA": msisdn,
            "PartyB": self._settings.party_b or self._settings.shortcode,
            "PhoneNumber": msisdn,
            "CallBackURL": self.callback_url,
            # Both are shown on the payer's prompt; Daraja refuses longer values.
            "AccountReference": re.sub(r"[^A-Za-z0-9]", "", request.merchant_reference)[:12] or "Lango",
            "TransactionDesc": request.description[:13],
        }
        body = _accepted(await self._call("/mpesa/stkpush/v1/processrequest", payload), "CheckoutRequestID", "STK push")
        return Initiation(
            provider=VENDOR,
            reference=body["CheckoutRequestID"],
            requested_amount_minor=request.amount_minor,
            requested_currency="KES",
            charged_amount_minor=request.amount_minor,
            charged_currency="KES",
            customer_message=body.get("CustomerMessage"),
            raw=body,
        )

    async def parse_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, *, path_token: str | None = None
    ) -> list[NormalizedPaymentEvent]:
        if path_token is None or not hmac.compare_digest(path_token.encode(), self._callback_token):
            raise SignatureInvalid("the callback path token does not match", vendor=VENDOR)
        try:
            envelope = _CallbackEnvelope.model_validate(orjson.loads(raw_body))
        except (orjson.JSONDecodeError, ValidationError) as exc:
            raise SignatureInvalid("the body is not an STK callback", vendor=VENDOR) from exc
        callback = envelope.Body.stkCallback
        raw = envelope.model_dump(mode="json")
        metadata = {
            item.Name: item.Value for item in (callback.CallbackMetadata.Item if callback.CallbackMetadata else [])
        }
        verdict = classify(MPESA_RESULT_CODES, callback.ResultCode, vendor=VENDOR)
        amount_minor = _callback_amount(metadata.get("Amount"))
        receipt = metadata.get("MpesaReceiptNumber")
        # Safaricom retries a callback byte for byte, so the digest keeps retries one statement; a forged or garbled
        # callback for the same push is a statement of its own and cannot shadow the genuine one that follows.
        digest = hashlib.sha256(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
        return [
            NormalizedPaymentEvent(
                provider=VENDOR,
                reference=callback.CheckoutRequestID,
                outcome=verdict.outcome,
                reason=verdict.reason,
                dedupe_key=f"{VENDOR}:{callback.CheckoutRequestID}:{callback.ResultCode}:{digest}",
                amount_minor=amount_minor,
                currency="KES" if amount_minor is not None else None,
                receipt=receipt if isinstance(receipt, str) and _RECEIPT.fullmatch(receipt) else None,
                vendor_code=str(callback.ResultCode),
                occurred_at=_transaction_time(metadata.get("TransactionDate")),
                payer_phone=_callback_phone(metadata.get("PhoneNumber")),
                unsigned=True,
                doubt=_success_doubt(metadata) if callback.ResultCode == 0 else None,
                raw=raw,
            )
        ]

    async def query_status(self, reference: str) -> NormalizedPaymentEvent:
        try:
            body = await self._call(
                "/mpesa/stkpushquery/v1/query", {**self._credentials(), "CheckoutRequestID": reference}
            )
        except VendorUnavailable as exc:
            error = _daraja_error(exc)
            # Daraja reuses this code for other failures, so the message decides.
            if error.get("errorCode") != _STILL_PROCESSING or "being processed" not in str(error.get("errorMessage")):
                raise
            return NormalizedPaymentEvent(
                provider=VENDOR,
                reference=reference,
                outcome=MPESA_PENDING.outcome,
                reason=MPESA_PENDING.reason,
                dedupe_key=f"{VENDOR}:{reference}:pending",
                vendor_code=_STILL_PROCESSING,
                raw=error,
            )
        try:
            result_code = int(body["ResultCode"])
        except (KeyError, ValueError) as exc:
            raise VendorUnavailable(f"Daraja's STK query answer has no result: {body}", vendor=VENDOR) from exc
        verdict = classify(MPESA_RESULT_CODES, result_code, vendor=VENDOR)
        return NormalizedPaymentEvent(
            provider=VENDOR,
            reference=reference,
            outcome=verdict.outcome,
            reason=verdict.reason,
            dedupe_key=f"{VENDOR}:{reference}:{result_code}",
            vendor_code=str(result_code),
            raw=body,
        )

    def _initiator(self, name_key: str) -> dict[str, str]:
        """The API operator and its SecurityCredential, encrypted anew for each request (PKCS#1 v1.5 is randomised)."""
        if self._initiator_key is None:
            raise ProviderMisconfigured(
                "missing settings: payments.mpesa.initiator_name, initiator_password and certificate", vendor=VENDOR
            )
        password = self._settings.initiator_password.get_secret_value()
        return {name_key: self._settings.initiator_name, "SecurityCredential": security_credential(password, self._initiator_key)}

    def result_urls(self, kind: Literal["b2c", "status", "reversal"]) -> dict[str, str]:
        """Where Daraja posts the Result of a `kind` request, and its queue timeout: under the callback route, with
        the same path token."""
        return {
            "ResultURL": f"{self._callback_base}/{kind}/result/{self._callback_token.decode()}",
            "QueueTimeOutURL": f"{self._callback_base}/{kind}/timeout/{self._callback_token.decode()}",
        }

    async def _initiator_call(self, path: str, payload: dict[str, Any]) -> DarajaAcknowledgement:
        body = _accepted(await self._call(path, payload), "OriginatorConversationID", "request")
        return DarajaAcknowledgement(
            conversation_id=str(body.get("ConversationID", "")),
            originator_conversation_id=str(body["OriginatorConversationID"]),
            raw=body,
        )

    async def b2c_payment(
        self, originator_conversation_id: str, phone: str, amount_minor: int, remarks: str, occasion: str = ""
    ) -> DarajaAcknowledgement:
        """Pay `amount_minor` KES to an M-Pesa phone from the B2C shortcode; the Result comes to the b2c routes.
        Daraja deduplicates on `originator_conversation_id`: a payout sends its own id, so a retry never pays twice."""
        initiator = self._initiator("InitiatorName")
        kes = _whole_kes(amount_minor, "KES", low=MIN_B2C_AMOUNT_KES, high=MAX_B2C_AMOUNT_KES)
        payload = {
            "OriginatorConversationID": originator_conversation_id,
            **initiator,
            "CommandID": self._settings.b2c_command_id,
            "Amount": kes,
            "PartyA": self._settings.b2c_shortcode or self._settings.shortcode,
            "PartyB": normalise_msisdn(phone),
            "Remarks": remarks[:100] if len(remarks) >= 2 else "Lango payout",
            **self.result_urls("b2c"),
            "Occasion": occasion[:100],
        }
        return await self._initiator_call("/mpesa/b2c/v3/paymentrequest", payload)

    async def transaction_status(
        self, *, originator_conversation_id: str | None = None, receipt: str | None = None, collected: bool = False
    ) -> DarajaAcknowledgement:
        """Ask where a transaction stands, by its receipt or by the OriginatorConversationID of the request that made
        it; the Result comes to the status routes. `collected`: a payment the shortcode received, not a B2C one.
        TransactionUnknown (a VendorRejected) when Daraja does not know the transaction."""
        if not (originator_conversation_id or receipt):
            raise ValueError("name the transaction by its receipt or its OriginatorConversationID")
        settings = self._settings
        party = settings.shortcode if collected else settings.b2c_shortcode or settings.shortcode
        payload = {
            **self._initiator("Initiator"),
            "CommandID": "TransactionStatusQuery",
            "TransactionID": receipt or "",
            "OriginalConversationID": originator_conversation_id or "",
            "PartyA": party,
            "IdentifierType": "4",
            **self.result_urls("status"),
            "Remarks": "Status check",
            "Occasion": "",
        }
        try:
            return await self._initiator_call("/mpesa/transactionstatus/v1/query", payload)
        except VendorRejected as error:
            # Only a refusal naming the transaction says Daraja has no record of it; any other is the request's.
            if str(_daraja_error(error).get("errorMessage", "")).endswith(_UNKNOWN_TRANSACTION_FIELDS):
                raise TransactionUnknown(str(error), vendor=VENDOR, reason=error.reason) from error
            raise

    async def reversal(self, receipt: str, amount_minor: int, remarks: str) -> DarajaAcknowledgement:
        """Return a whole payment the shortcode received (Daraja reverses nothing partially); the Result comes to the
        reversal routes."""
        kes = _whole_kes(amount_minor, "KES")
        payload = {
            **self._initiator("Initiator"),
            "CommandID": "TransactionReversal",
            "TransactionID": receipt,
            "Amount": kes,
            "ReceiverParty": self._settings.shortcode,
            # Daraja's own spelling of the field.
            "RecieverIdentifierType": "11",
            **self.result_urls("reversal"),
            "Remarks": remarks[:100] if len(remarks) >= 2 else "Reversal",
            "Occasion": "",
        }
        return await self._initiator_call("/mpesa/reversal/v1/request", payload)

    async def c2b_register(self, confirmation_url: str, validation_url: str) -> dict[str, Any]:
        """Register where M-Pesa asks about and confirms Paybill payments to the shortcode (URLs must not name
        M-Pesa or Safaricom: Daraja refuses them)."""
        payload = {
            "ShortCode": self._settings.shortcode,
            "ResponseType": self._settings.c2b_response_type,
            "ConfirmationURL": confirmation_url,
            "ValidationURL": validation_url,
        }
        body = await self._call("/mpesa/c2b/v2/registerurl", payload)
        if str(body.get("ResponseCode")) != "0":
            raise VendorRejected(f"Daraja refused the C2B URLs: {body.get('ResponseDescription')}", vendor=VENDOR)
        return body

    async def transactions(self, start: datetime, end: datetime) -> list[VendorTransaction]:
        """Payments into the shortcode from Pull Transactions (the last 48 hours only), every page by offset."""
        found: list[VendorTransaction] = []
        while True:
            body = await self._call(PULL_PATH, pull_query(self._settings.shortcode, start, end, len(found)))
            records = pulled_records(body)
            if not records:
                return found
            found += [movement(record) for record in records]

    def _check_path_token(self, path_token: str | None) -> None:
        if path_token is None or not hmac.compare_digest(path_token.encode(), self._callback_token):
            raise SignatureInvalid("the callback path token does not match", vendor=VENDOR)

    def parse_initiator_result(self, raw_body: bytes, *, path_token: str | None, timed_out: bool) -> InitiatorResult:
        """A B2C, status or reversal Result (or queue timeout) posted to our routes; SignatureInvalid otherwise."""
        self._check_path_token(path_token)
        try:
            return parse_initiator_result(orjson.loads(raw_body), timed_out=timed_out)
        except (orjson.JSONDecodeError, ValidationError) as exc:
            raise SignatureInvalid("the body is not a Daraja Result", vendor=VENDOR) from exc

    def parse_paybill(self, raw_body: bytes, *, path_token: str | None) -> PaybillNotice | None:
        """A C2B validation or confirmation body; None when its amount is garbled; SignatureInvalid otherwise."""
        self._check_path_token(path_token)
        try:
            return parse_paybill_notice(orjson.loads(raw_body))
        except (orjson.JSONDecodeError, ValidationError) as exc:
            raise SignatureInvalid("the body is not a C2B notification", vendor=VENDOR) from exc

    async def refund(self, reference: str, amount_minor: int | None, idempotency_key: str) -> RefundResult:
        # An STK payment is returned through a reversal or a B2C payment, both needing initiator
        # credentials and an asynchronous result route that this deployment does not hold.
        raise VendorRejected("M-Pesa payments are refunded by the finance team, not through STK", vendor=VENDOR)


def _accepted(body: dict[str, Any], reference_key: str, what: str) -> dict[str, Any]:
    """An answer that took the request (ResponseCode 0, naming its reference); VendorRejected otherwise."""
    if str(body.get("ResponseCode")) != "0" or reference_key not in body:
        raise VendorRejected(
            f"Daraja did not accept the {what}: {body.get('ResponseDescription')}",
            vendor=VENDOR,
            reason=body.get("ResponseDescription"),
        )
    return body


def _daraja_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise VendorUnavailable(f"Daraja answered a JSON {type(body).__name__}, not an object", vendor=VENDOR)
    return body


def _daraja_error(error: ProviderError) -> dict[str, Any]:
    """Daraja's error object (`errorCode`, `errorMessage`), which the error carries as its raw reason."""
    try:
        body = orjson.loads(error.reason or "")
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}
