"""What Daraja posts back after an initiator request (B2C, transaction status, reversal) or a Paybill payment (C2B),
parsed strictly into the adapter's own models; anything else is refused as not Safaricom's."""

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, StringConstraints

EAT = timezone(timedelta(hours=3), "EAT")
KES_MINOR_PER_UNIT = 100
_RECEIPT = re.compile(r"^[A-Z0-9]{8,20}$")
# Daraja's ResultCode for an OriginatorConversationID it has seen: says nothing of whether the first request paid.
DUPLICATE_REQUEST = "15"
# What a transaction status Result calls a transaction that went through, one reversed, and ones that moved nothing.
TRANSACTION_COMPLETED = "Completed"
TRANSACTION_REVERSED = "Reversed"
TRANSACTION_NOT_MADE = frozenset({"Failed", "Cancelled", "Expired", "Declined"})

# Unsigned bodies: every field bounded so what is stored is what MongoDB can hold; unknown fields are dropped.
_Text = Annotated[StrictStr, StringConstraints(max_length=300)]
_Id = Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)]
_Scalar = Annotated[StrictInt, Field(ge=-(2**63), lt=2**63)] | StrictFloat | _Text | None


class _Parameter(BaseModel):
    Key: _Text
    Value: _Scalar = None


class _Parameters(BaseModel):
    ResultParameter: Annotated[list[_Parameter], Field(max_length=40)] | _Parameter = []


class _Result(BaseModel):
    ResultType: Annotated[int, Field(ge=0, lt=100)] = 0
    ResultCode: Annotated[StrictInt, Field(ge=-(2**31), lt=2**31)] | Annotated[StrictStr, StringConstraints(max_length=20)]
    ResultDesc: Annotated[StrictStr, StringConstraints(max_length=1000)] = ""
    OriginatorConversationID: _Id
    ConversationID: Annotated[StrictStr, StringConstraints(max_length=100)] = ""
    TransactionID: Annotated[StrictStr, StringConstraints(max_length=100)] = ""
    ResultParameters: _Parameters | None = None


class _ResultEnvelope(BaseModel):
    Result: _Result


class DarajaAcknowledgement(BaseModel):
    """Daraja took an initiator request; its outcome comes later to the result (or timeout) route."""

    model_config = ConfigDict(frozen=True)

    conversation_id: str
    originator_conversation_id: str
    raw: dict[str, Any]


class InitiatorResult(BaseModel):
    """One Result Daraja posted for a B2C payment, a transaction status query or a reversal, or a queue timeout."""

    model_config = ConfigDict(frozen=True)

    originator_conversation_id: str
    conversation_id: str
    result_code: str
    result_desc: str
    timed_out: bool = False
    transaction_id: str | None = None
    receipt: str | None = None
    amount_minor: int | None = None
    receiver: str | None = None
    # Transaction status results: the transaction's own state ("Completed", "Reversed", …) and the request it was.
    transaction_status: str | None = None
    queried_originator_conversation_id: str | None = None
    # Reversal results: the receipt of the payment that was reversed.
    original_transaction_id: str | None = None
    raw: dict[str, Any]

    @property
    def succeeded(self) -> bool:
        return not self.timed_out and self.result_code == "0"


class PaybillNotice(BaseModel):
    """A customer's Paybill payment as M-Pesa posts it to the validation and confirmation URLs."""

    model_config = ConfigDict(frozen=True)

    trans_id: str
    amount_minor: int
    shortcode: str
    account_reference: str
    msisdn: str
    payer_name: str
    paid_at: datetime | None
    raw: dict[str, Any]


class _PaybillBody(BaseModel):
    TransactionType: _Text = ""
    TransID: Annotated[StrictStr, StringConstraints(pattern=r"^[A-Z0-9]{8,20}$")]
    TransTime: Annotated[StrictStr, StringConstraints(max_length=20)] = ""
    TransAmount: Annotated[StrictStr, StringConstraints(max_length=20)] | StrictInt | StrictFloat
    BusinessShortCode: Annotated[StrictStr, StringConstraints(max_length=10)] | StrictInt
    BillRefNumber: Annotated[StrictStr, StringConstraints(max_length=40)] = ""
    InvoiceNumber: _Text = ""
    OrgAccountBalance: _Text = ""
    ThirdPartyTransID: _Text = ""
    MSISDN: Annotated[StrictStr, StringConstraints(max_length=100)] | StrictInt = ""
    FirstName: _Text = ""
    MiddleName: _Text = ""
    LastName: _Text = ""


def kes_minor(value: Any) -> int | None:
    """Whole or cent-exact shillings (a number, or text like "10.00") in minor units; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not re.fullmatch(r"\d{1,9}(\.\d{1,2})?", value):
            return None
        shillings, _, cents = value.partition(".")
        return int(shillings) * KES_MINOR_PER_UNIT + int(cents.ljust(2, "0") or 0)
    if isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value < 10**9:
        minor = round(value * KES_MINOR_PER_UNIT)
        return minor if abs(minor - value * KES_MINOR_PER_UNIT) < 1e-6 else None
    return None


def _eat_time(value: Any, pattern: str) -> datetime | None:
    try:
        return datetime.strptime(str(value), pattern).replace(tzinfo=EAT).astimezone(timezone.utc)
    except ValueError:
        return None


def parse_initiator_result(payload: Any, *, timed_out: bool) -> InitiatorResult:
    """A Result (or queue timeout) body as the adapter's model; pydantic's ValidationError when it is not one."""
    envelope = _ResultEnvelope.model_validate(payload)
    result = envelope.Result
    listed = result.ResultParameters.ResultParameter if result.ResultParameters else []
    parameters = {item.Key: item.Value for item in (listed if isinstance(listed, list) else [listed])}
    receipt = parameters.get("TransactionReceipt") or parameters.get("ReceiptNo")
    amount = parameters.get("TransactionAmount", parameters.get("Amount"))
    queried = parameters.get("OriginatorConversationID") or parameters.get("Originator Conversation ID")
    status = parameters.get("TransactionStatus")
    receiver = parameters.get("ReceiverPartyPublicName") or parameters.get("CreditPartyName")
    return InitiatorResult(
        originator_conversation_id=result.OriginatorConversationID,
        conversation_id=result.ConversationID,
        result_code=str(result.ResultCode),
        result_desc=result.ResultDesc,
        timed_out=timed_out,
        transaction_id=result.TransactionID or None,
        receipt=receipt if isinstance(receipt, str) and _RECEIPT.fullmatch(receipt) else None,
        amount_minor=kes_minor(amount),
        receiver=receiver if isinstance(receiver, str) else None,
        transaction_status=status if isinstance(status, str) else None,
        queried_originator_conversation_id=str(queried) if isinstance(queried, (str, int)) and queried != "" else None,
        original_transaction_id=_text_or_none(parameters.get("OriginalTransactionID")),
        raw=envelope.model_dump(mode="json"),
    )


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_paybill_notice(payload: Any) -> PaybillNotice | None:
    """A C2B body as the adapter's model; None when its amount is not money; ValidationError when not a C2B body."""
    body = _PaybillBody.model_validate(payload)
    amount = kes_minor(body.TransAmount)
    if amount is None or amount <= 0:
        return None
    name = " ".join(part for part in (body.FirstName, body.MiddleName, body.LastName) if part)
    return PaybillNotice(
        trans_id=body.TransID,
        amount_minor=amount,
        shortcode=str(body.BusinessShortCode),
        # Typed by the customer on a phone keypad: compared without case or spaces.
        account_reference=re.sub(r"\s+", "", body.BillRefNumber).upper(),
        msisdn=str(body.MSISDN),
        payer_name=name[:100],
        paid_at=_eat_time(body.TransTime, "%Y%m%d%H%M%S"),
        raw=body.model_dump(mode="json"),
    )
