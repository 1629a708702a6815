"""The Daraja emulator's initiator APIs: B2C payments, transaction status and reversals, each acknowledged at once
and answered later with a Result posted to ResultURL (or a timeout to QueueTimeOutURL), as Safaricom does."""

import asyncio
import secrets
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from aiohttp import web

from providers.emulators.daraja_state import (
    DARAJA_SANDBOX,
    EAT,
    MSISDN,
    RESULT_DESCRIPTIONS,
    B2cPayment,
    B2cScenario,
    DarajaSandbox,
    MpesaTransaction,
    ResultDelivery,
    bad_request,
    bearer_body,
    new_conversation_id,
    new_receipt,
    whole_amount,
)

B2C_COMMANDS = {"BusinessPayment", "SalaryPayment", "PromotionPayment"}
MIN_B2C_AMOUNT = 10
MAX_B2C_AMOUNT = 250_000
ACCEPTED = "Accept the service request successfully."
# Where Daraja says its own queue would have sent a timeout, echoed in every Result's ReferenceData.
_INTERNAL_TIMEOUT_URL = "https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit"
DUPLICATE_REQUEST = 15
INVALID_INITIATOR = 2001
INSUFFICIENT_FUNDS = 1
ALREADY_REVERSED = "R000001"
NOT_REVERSIBLE = "R000002"
# Safaricom documents no body for a queue timeout; the emulator posts a Result envelope of ResultType 1.
_QUEUE_TIMEOUT_CODE = 1037


def _originator_id() -> str:
    return f"{secrets.randbelow(90000) + 10000}-{secrets.randbelow(9 * 10**7) + 10**7}-1"


def _http_url(value: Any) -> bool:
    parts = urlsplit(str(value or ""))
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _text(body: dict[str, Any], name: str, low: int, high: int) -> bool:
    value = body.get(name)
    return isinstance(value, str) and low <= len(value) <= high


def _missing(body: dict[str, Any], names: tuple[str, ...]) -> str | None:
    return next((name for name in names if body.get(name) in (None, "")), None)


def _acknowledgement(conversation_id: str, originator_id: str) -> web.Response:
    return web.json_response(
        {
            "ConversationID": conversation_id,
            "OriginatorConversationID": originator_id,
            "ResponseCode": "0",
            "ResponseDescription": ACCEPTED,
        }
    )


def _result(code: int | str, originator_id: str, conversation_id: str, transaction_id: str, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ResultType": 0,
        "ResultCode": code,
        "ResultDesc": RESULT_DESCRIPTIONS.get(code, "The service request failed."),
        "OriginatorConversationID": originator_id,
        "ConversationID": conversation_id,
        "TransactionID": transaction_id,
        **extra,
    }
    return {"Result": result}


def _parameters(values: dict[str, Any]) -> dict[str, Any]:
    return {"ResultParameter": [{"Key": key, "Value": value} for key, value in values.items()]}


async def b2c_payment(request: web.Request) -> web.Response:
    """POST /mpesa/b2c/{v1,v3}/paymentrequest: v3 takes the caller's OriginatorConversationID, v1 makes one."""
    body = await bearer_body(request)
    if isinstance(body, web.Response):
        return body
    sandbox = request.app[DARAJA_SANDBOX]
    required = ("InitiatorName", "SecurityCredential", "CommandID", "Amount", "PartyA", "PartyB", "Remarks",
                "QueueTimeOutURL", "ResultURL")  # fmt: skip
    if request.match_info["version"] == "v3":
        required = ("OriginatorConversationID", *required)
    if missing := _missing(body, required):
        return bad_request(missing)
    originator_id = str(body.get("OriginatorConversationID") or _originator_id())
    if len(originator_id) > 100:
        return bad_request("OriginatorConversationID")
    if body["CommandID"] not in B2C_COMMANDS:
        return bad_request("CommandID")
    amount = whole_amount(body["Amount"], MIN_B2C_AMOUNT, MAX_B2C_AMOUNT)
    if amount is None:
        return bad_request("Amount")
    if str(body["PartyA"]) != sandbox.settings.b2c_shortcode:
        return bad_request("PartyA")
    msisdn = str(body["PartyB"])
    if not MSISDN.fullmatch(msisdn):
        return bad_request("PartyB")
    if not _text(body, "Remarks", 2, 100) or len(str(body.get("Occasion") or "")) > 100:
        return bad_request("Remarks")
    for name in ("QueueTimeOutURL", "ResultURL"):
        if not _http_url(body[name]):
            return bad_request(name)
    payment = B2cPayment(
        originator_conversation_id=originator_id,
        conversation_id=new_conversation_id(),
        command_id=body["CommandID"],
        amount=amount,
        msisdn=msisdn,
        remarks=body["Remarks"],
        occasion=str(body.get("Occasion") or ""),
        result_url=body["ResultURL"],
        timeout_url=body["QueueTimeOutURL"],
        scenario=sandbox.settings.b2c_scenarios.get(msisdn, B2cScenario()),
        initiator_valid=sandbox.initiator_valid(body["InitiatorName"], body["SecurityCredential"]),
        duplicate=originator_id in sandbox.b2c_payments,
    )
    if not payment.duplicate:
        sandbox.b2c_payments[originator_id] = payment
    sandbox.notifications.spawn(_finish_b2c_later(sandbox, payment))
    return _acknowledgement(payment.conversation_id, originator_id)


async def _finish_b2c_later(sandbox: DarajaSandbox, payment: B2cPayment) -> None:
    await asyncio.sleep(sandbox.settings.callback_delay_seconds)
    finish_b2c_payment(sandbox, payment)


def finish_b2c(sandbox: DarajaSandbox, originator_conversation_id: str) -> None:
    """Finish an accepted B2C payment at once (tests, and the sandbox's timer), posting what its scenario says."""
    finish_b2c_payment(sandbox, sandbox.b2c_payments[originator_conversation_id])


def finish_b2c_payment(sandbox: DarajaSandbox, payment: B2cPayment) -> None:
    if payment.settled:
        return
    payment.settled = True
    scenario = payment.scenario
    code = _b2c_result_code(sandbox, payment)
    moves_money = code == 0 and (
        scenario.delivery in (ResultDelivery.RESULT, ResultDelivery.DUPLICATE)
        or (scenario.processed and scenario.delivery is not ResultDelivery.LATE)
    )
    if moves_money:
        _pay(sandbox, payment)
    elif code == 0 and scenario.delivery is ResultDelivery.TIMEOUT:
        # It reached M-Pesa and was not processed: a status query finds it Failed, and no money moved.
        _record_b2c(sandbox, payment, new_receipt(), "Failed")
    payment.result_code = code if moves_money or code != 0 else None
    if scenario.delivery is ResultDelivery.NEVER:
        return
    if scenario.delivery in (ResultDelivery.TIMEOUT, ResultDelivery.LATE):
        sandbox.post_json(payment.timeout_url, _queue_timeout(payment.originator_conversation_id, payment.conversation_id))
        return
    times = 2 if scenario.delivery is ResultDelivery.DUPLICATE else 1
    sandbox.post_json(payment.result_url, _b2c_result(sandbox, payment, code), times=times)


def finish_late_b2c(sandbox: DarajaSandbox, originator_conversation_id: str, *, times: int = 1) -> None:
    """M-Pesa gets round to a B2C payment whose queue timed out (ResultDelivery.LATE): the money moves now and its
    Result is posted `times` times at once."""
    payment = sandbox.b2c_payments[originator_conversation_id]
    if payment.receipt is not None or payment.scenario.delivery is not ResultDelivery.LATE:
        return
    _pay(sandbox, payment)
    payment.result_code = 0
    sandbox.post_json(payment.result_url, _b2c_result(sandbox, payment, 0), times=times)


def _pay(sandbox: DarajaSandbox, payment: B2cPayment) -> None:
    """The money leaves the utility account for the phone."""
    payment.receipt = new_receipt()
    sandbox.utility_balance -= payment.amount
    _record_b2c(sandbox, payment, payment.receipt, "Completed")


def _record_b2c(sandbox: DarajaSandbox, payment: B2cPayment, receipt: str, status: Literal["Completed", "Failed"]) -> None:
    sandbox.record_transaction(
        MpesaTransaction(
            receipt, "b2c", payment.amount, payment.msisdn, payment.conversation_id,
            originator_conversation_id=payment.originator_conversation_id, status=status,
        )
    )  # fmt: skip


def _b2c_result_code(sandbox: DarajaSandbox, payment: B2cPayment) -> int:
    if payment.duplicate:
        return DUPLICATE_REQUEST
    if not payment.initiator_valid:
        return INVALID_INITIATOR
    if payment.scenario.result_code:
        return payment.scenario.result_code
    return INSUFFICIENT_FUNDS if payment.amount > sandbox.utility_balance else 0


def _b2c_result(sandbox: DarajaSandbox, payment: B2cPayment, code: int) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "ReferenceData": {"ReferenceItem": {"Key": "QueueTimeoutURL", "Value": _INTERNAL_TIMEOUT_URL}}
    }
    if code == 0 and payment.receipt:
        extra["ResultParameters"] = _parameters(
            {
                "TransactionAmount": payment.amount,
                "TransactionReceipt": payment.receipt,
                "B2CRecipientIsRegisteredCustomer": "Y",
                "B2CChargesPaidAccountAvailableFunds": 0.0,
                "ReceiverPartyPublicName": f"{payment.msisdn} - Sandbox Payee",
                "TransactionCompletedDateTime": f"{datetime.now(EAT):%d.%m.%Y %H:%M:%S}",
                "B2CUtilityAccountAvailableFunds": float(sandbox.utility_balance),
                "B2CWorkingAccountAvailableFunds": 0.0,
            }
        )
    transaction_id = payment.receipt or new_receipt()
    return _result(code, payment.originator_conversation_id, payment.conversation_id, transaction_id, **extra)


def _queue_timeout(originator_id: str, conversation_id: str) -> dict[str, Any]:
    timeout = _result(_QUEUE_TIMEOUT_CODE, originator_id, conversation_id, "")
    timeout["Result"].update(ResultType=1, ResultDesc="The request timed out in the queue.")
    return timeout


def _initiator_request(body: dict[str, Any], command: str, names: tuple[str, ...]) -> str | None:
    """The first field of an initiator request that is missing or wrong, if any."""
    if missing := _missing(body, ("Initiator", "SecurityCredential", "CommandID", *names, "ResultURL",
                                  "QueueTimeOutURL", "Remarks")):  # fmt: skip
        return missing
    if body["CommandID"] != command:
        return "CommandID"
    for name in ("QueueTimeOutURL", "ResultURL"):
        if not _http_url(body[name]):
            return name
    return None


async def transaction_status(request: web.Request) -> web.Response:
    """POST /mpesa/transactionstatus/v1/query: by receipt (TransactionID) or OriginalConversationID."""
    body = await bearer_body(request)
    if isinstance(body, web.Response):
        return body
    sandbox = request.app[DARAJA_SANDBOX]
    if wrong := _initiator_request(body, "TransactionStatusQuery", ("PartyA", "IdentifierType")):
        return bad_request(wrong)
    if str(body["PartyA"]) not in (sandbox.settings.b2c_shortcode, sandbox.settings.shortcode):
        return bad_request("PartyA")
    reference = str(body.get("TransactionID") or body.get("OriginalConversationID") or "")
    transaction = sandbox.transaction_for(reference) if reference else None
    if transaction is None:
        # The emulator answers an unknown transaction at once, as its STK query does, rather than in a Result.
        return bad_request("TransactionID")
    originator_id, conversation_id = _originator_id(), new_conversation_id()
    valid = sandbox.initiator_valid(body["Initiator"], body["SecurityCredential"])
    result = _status_result(sandbox, transaction, originator_id, conversation_id, body, valid)
    sandbox.notifications.spawn(_post_later(sandbox, str(body["ResultURL"]), result))
    return _acknowledgement(conversation_id, originator_id)


def _status_result(
    sandbox: DarajaSandbox, transaction: MpesaTransaction, originator_id: str, conversation_id: str,
    body: dict[str, Any], initiator_valid: bool,
) -> dict[str, Any]:  # fmt: skip
    occasion = {"ReferenceData": {"ReferenceItem": {"Key": "Occasion", "Value": str(body.get("Occasion") or "")}}}
    if not initiator_valid:
        return _result(INVALID_INITIATOR, originator_id, conversation_id, "", **occasion)
    finalised = int(f"{transaction.completed_at:%Y%m%d%H%M%S}")
    parameters = _parameters(
        {
            "DebitPartyName": f"{sandbox.settings.b2c_shortcode} - Lango Sandbox",
            "CreditPartyName": f"{transaction.msisdn} - Sandbox Payee",
            "OriginatorConversationID": transaction.originator_conversation_id or "",
            "InitiatedTime": finalised,
            "DebitAccountType": "Utility Account",
            "DebitPartyCharges": "",
            "TransactionReason": "",
            "ReasonType": "Business Payment to Customer via API" if transaction.kind == "b2c" else "Pay Bill Online",
            "TransactionStatus": "Reversed" if transaction.reversed_by else transaction.status,
            "FinalisedTime": finalised,
            "Amount": float(transaction.amount),
            "ConversationID": transaction.conversation_id,
            "ReceiptNo": transaction.receipt,
        }
    )
    return _result(0, originator_id, conversation_id, transaction.receipt, ResultParameters=parameters, **occasion)


async def reversal(request: web.Request) -> web.Response:
    """POST /mpesa/reversal/v1/request: returns a whole payment the shortcode received, once."""
    body = await bearer_body(request)
    if isinstance(body, web.Response):
        return body
    sandbox = request.app[DARAJA_SANDBOX]
    if wrong := _initiator_request(body, "TransactionReversal", ("TransactionID", "Amount", "ReceiverParty")):
        return bad_request(wrong)
    if str(body["ReceiverParty"]) != sandbox.settings.shortcode:
        return bad_request("ReceiverParty")
    if str(body.get("RecieverIdentifierType")) != "11":
        return bad_request("RecieverIdentifierType")
    amount = whole_amount(body["Amount"], 1, MAX_B2C_AMOUNT)
    if amount is None:
        return bad_request("Amount")
    originator_id, conversation_id = _originator_id(), new_conversation_id()
    valid = sandbox.initiator_valid(body["Initiator"], body["SecurityCredential"])
    original = sandbox.transactions.get(str(body["TransactionID"]))
    scenario = sandbox.settings.b2c_scenarios.get(original.msisdn if original else "", B2cScenario())
    if scenario.delivery in (ResultDelivery.TIMEOUT, ResultDelivery.NEVER):
        # The queue times out (or says nothing); the reversal is made or not as the scenario says, and only a status
        # query of the original payment tells which.
        if scenario.processed:
            _reverse(sandbox, str(body["TransactionID"]), amount, originator_id, conversation_id, valid)
        if scenario.delivery is ResultDelivery.TIMEOUT:
            timeout = _queue_timeout(originator_id, conversation_id)
            sandbox.notifications.spawn(_post_later(sandbox, str(body["QueueTimeOutURL"]), timeout))
        return _acknowledgement(conversation_id, originator_id)
    result = _reverse(sandbox, str(body["TransactionID"]), amount, originator_id, conversation_id, valid)
    sandbox.notifications.spawn(_post_later(sandbox, str(body["ResultURL"]), result))
    return _acknowledgement(conversation_id, originator_id)


def _reverse(
    sandbox: DarajaSandbox, receipt: str, amount: int, originator_id: str, conversation_id: str, initiator_valid: bool
) -> dict[str, Any]:
    """Reverse at once (so a second request finds it reversed) and answer the Result to post later."""
    original = sandbox.transactions.get(receipt)
    if not initiator_valid:
        return _result(INVALID_INITIATOR, originator_id, conversation_id, "")
    if original is None or original.kind not in ("stk", "paybill") or original.amount != amount:
        # Daraja reverses only a whole payment the shortcode received.
        return _result(NOT_REVERSIBLE, originator_id, conversation_id, "")
    if original.reversed_by:
        return _result(ALREADY_REVERSED, originator_id, conversation_id, "")
    reversal_receipt = new_receipt()
    original.reversed_by = reversal_receipt
    sandbox.record_transaction(
        MpesaTransaction(reversal_receipt, "reversal", amount, original.msisdn, conversation_id, originator_id)
    )
    parameters = _parameters(
        {
            "DebitAccountBalance": "Utility Account|KES|0.00|0.00|0.00|0.00",
            "Amount": float(amount),
            "TransCompletedTime": int(f"{datetime.now(EAT):%Y%m%d%H%M%S}"),
            "OriginalTransactionID": receipt,
            "Charge": 0.0,
            "CreditPartyPublicName": f"{original.msisdn} - Sandbox Payer",
            "DebitPartyPublicName": f"{sandbox.settings.shortcode} - Lango Sandbox",
        }
    )
    return _result(0, originator_id, conversation_id, reversal_receipt, ResultParameters=parameters)


async def _post_later(sandbox: DarajaSandbox, url: str, payload: dict[str, Any]) -> None:
    pending = (url, payload)
    sandbox.pending_results.append(pending)
    await asyncio.sleep(sandbox.settings.callback_delay_seconds)
    if pending in sandbox.pending_results:
        sandbox.pending_results.remove(pending)
        sandbox.post_json(url, payload)


def post_pending_results(sandbox: DarajaSandbox) -> int:
    """Post every transaction status and reversal Result still waiting for the emulator's delay, now."""
    pending, sandbox.pending_results = sandbox.pending_results, []
    for url, payload in pending:
        sandbox.post_json(url, payload)
    return len(pending)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post(r"/mpesa/b2c/{version:v1|v3}/paymentrequest", b2c_payment)
    router.add_post("/mpesa/transactionstatus/v1/query", transaction_status)
    router.add_post("/mpesa/reversal/v1/request", reversal)
