"""The Daraja emulator's Paybill (C2B): URLs registered per shortcode, and a customer paying the Paybill, which asks
the ValidationURL first and then posts the ConfirmationURL, as M-Pesa does."""

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from providers.emulators.daraja_state import (
    DARAJA_SANDBOX,
    EAT,
    MSISDN,
    C2bRegistration,
    DarajaSandbox,
    MpesaTransaction,
    bad_request,
    bearer_body,
    daraja_error,
    new_conversation_id,
    new_receipt,
    whole_amount,
)

# Safaricom refuses to register URLs naming itself or looking like an injection.
FORBIDDEN_URL_WORDS = ("m-pesa", "mpesa", "safaricom", "exec", "cmd", "sql", "query")
_RESPONSE_TYPES = ("Completed", "Cancelled")
_JSON = {"Content-Type": "application/json"}


@dataclass
class PaybillOutcome:
    """What happened to one customer's Paybill payment: the transaction id, and what the application answered."""

    trans_id: str
    accepted: bool
    validation: dict[str, Any] | None = None
    confirmation_statuses: list[int | None] = field(default_factory=list)


def _registrable(url: Any) -> bool:
    text = str(url or "")
    return text.startswith(("http://", "https://")) and not any(word in text.lower() for word in FORBIDDEN_URL_WORDS)


async def _shortcode_body(request: web.Request) -> dict[str, Any] | web.Response:
    """The body of an authorised C2B call about this emulator's Paybill."""
    body = await bearer_body(request)
    if isinstance(body, web.Response) or str(body.get("ShortCode", "")) == request.app[DARAJA_SANDBOX].settings.shortcode:
        return body
    return bad_request("ShortCode")


async def register_urls(request: web.Request) -> web.Response:
    """POST /mpesa/c2b/{v1,v2}/registerurl."""
    body = await _shortcode_body(request)
    if isinstance(body, web.Response):
        return body
    sandbox = request.app[DARAJA_SANDBOX]
    if body.get("ResponseType") not in _RESPONSE_TYPES:
        return bad_request("ResponseType")
    for name in ("ConfirmationURL", "ValidationURL"):
        if not _registrable(body.get(name)):
            return bad_request(name)
    sandbox.c2b_registrations[sandbox.settings.shortcode] = C2bRegistration(
        confirmation_url=body["ConfirmationURL"],
        validation_url=body["ValidationURL"],
        response_type=body["ResponseType"],
        version=request.match_info["version"],  # type: ignore[arg-type]
    )
    # Safaricom's answer spells the key this way.
    return web.json_response(
        {"OriginatorCoversationID": f"{secrets.randbelow(10**5)}-{secrets.randbelow(10**8)}-1",
         "ResponseCode": "0", "ResponseDescription": "Success"}
    )  # fmt: skip


async def simulate(request: web.Request) -> web.Response:
    """POST /mpesa/c2b/v1/simulate (sandbox only at Safaricom too): a customer pays the Paybill."""
    body = await _shortcode_body(request)
    if isinstance(body, web.Response):
        return body
    sandbox = request.app[DARAJA_SANDBOX]
    if body.get("CommandID") not in ("CustomerPayBillOnline", "CustomerBuyGoodsOnline"):
        return bad_request("CommandID")
    amount = whole_amount(body.get("Amount"))
    if amount is None:
        return bad_request("Amount")
    msisdn = str(body.get("Msisdn", ""))
    if not MSISDN.fullmatch(msisdn):
        return bad_request("Msisdn")
    if sandbox.settings.shortcode not in sandbox.c2b_registrations:
        return daraja_error(500, "500.003.1001", "C2B URLs are not registered for this shortcode")
    account = str(body.get("BillRefNumber") or "")[:20]
    sandbox.notifications.spawn(_pay_in_background(sandbox, msisdn, amount, account))
    return web.json_response(
        {"OriginatorCoversationID": new_conversation_id(), "ResponseCode": "0",
         "ResponseDescription": "Accept the service request successfully."}
    )  # fmt: skip


async def _pay_in_background(sandbox: DarajaSandbox, msisdn: str, amount: int, account: str) -> None:
    await pay_bill(sandbox, msisdn, amount, account)


def c2b_payload(
    sandbox: DarajaSandbox, trans_id: str, msisdn: str, amount: int, account: str, first_name: str
) -> dict[str, Any]:
    return {
        "TransactionType": "Pay Bill",
        "TransID": trans_id,
        "TransTime": f"{datetime.now(EAT):%Y%m%d%H%M%S}",
        "TransAmount": f"{amount}.00",
        "BusinessShortCode": sandbox.settings.shortcode,
        "BillRefNumber": account,
        "InvoiceNumber": "",
        "OrgAccountBalance": "",
        "ThirdPartyTransID": "",
        "MSISDN": msisdn,
        "FirstName": first_name,
        "MiddleName": "",
        "LastName": "",
    }


async def pay_bill(
    sandbox: DarajaSandbox,
    msisdn: str,
    amount: int,
    account: str,
    *,
    first_name: str = "Wanjiru",
    confirmations: int = 1,
    validated: bool = True,
) -> PaybillOutcome:
    """A customer pays `amount` KES to the Paybill for `account`: validation asked (`validated`: M-Pesa asks only
    where Safaricom turned external validation on for the shortcode), then `confirmations` identical confirmations
    posted at once (M-Pesa retries a confirmation it thinks was lost)."""
    registration = sandbox.c2b_registrations[sandbox.settings.shortcode]
    trans_id = new_receipt()
    payload = c2b_payload(sandbox, trans_id, msisdn, amount, account, first_name)
    outcome = PaybillOutcome(trans_id, accepted=True)
    if validated:
        status, answer = await sandbox.notifications.exchange(registration.validation_url, orjson.dumps(payload), _JSON)
        outcome.validation = _json_object(answer) if status == 200 else None
        # An application that does not answer is taken at the word of the registered ResponseType.
        answered = outcome.validation
        outcome.accepted = str(answered.get("ResultCode")) == "0" if answered else registration.response_type == "Completed"
    if not outcome.accepted:
        return outcome
    sandbox.record_transaction(MpesaTransaction(trans_id, "paybill", amount, msisdn, new_conversation_id(), account_reference=account))
    payload["OrgAccountBalance"] = f"{amount}.00"
    body = orjson.dumps(payload)
    answers = await asyncio.gather(
        *(sandbox.notifications.exchange(registration.confirmation_url, body, _JSON) for _ in range(confirmations))
    )
    outcome.confirmation_statuses = [status for status, _ in answers]
    return outcome


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post(r"/mpesa/c2b/{version:v1|v2}/registerurl", register_urls)
    router.add_post("/mpesa/c2b/v1/simulate", simulate)
