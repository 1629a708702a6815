"""An admin's manual correction: a new balanced entry with its reason and the admin's id; nothing is ever edited."""

from typing import Annotated

from pydantic import Field, model_validator
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from documents.ledger_entry import LedgerCause, LedgerEntry, LedgerKind, LedgerLine, imbalance
from gateway.database import in_transaction
from gateway.idempotency import IdempotencyKeyReused
from gateway.input_types import ProseText
from gateway.ledger.accounts import ACCOUNT_NAME
from gateway.ledger.posting import ledger_entry, post_entry
from gateway.routing import RequestModel
from gateway.security.callers import Caller
from gateway.services import Services

# Far beyond any real correction, and far inside int64 once summed.
MAX_ADJUSTMENT_MINOR = 10**12


class AdjustmentLine(RequestModel):
    account: Annotated[str, Field(max_length=120, pattern=ACCOUNT_NAME.pattern, description="e.g. suspense, host_payable:<user id>, cash:mpesa")]
    currency: Annotated[str, Field(max_length=3, pattern=r"^[A-Z]{3}$")]
    amount_minor: Annotated[int, Field(ge=-MAX_ADJUSTMENT_MINOR, le=MAX_ADJUSTMENT_MINOR, description="a debit positive, a credit negative")]


class AdjustmentRequest(RequestModel):
    reason: Annotated[ProseText, Field(min_length=5, max_length=500)]
    lines: Annotated[list[AdjustmentLine], Field(min_length=2, max_length=10)]

    @model_validator(mode="after")
    def _balanced(self) -> "AdjustmentRequest":
        lines = [LedgerLine(**line.model_dump()) for line in self.lines]
        if unbalanced := imbalance(lines):
            raise ValueError(f"the lines must net to zero in each currency; they net to {unbalanced}")
        if not any(line.amount_minor for line in lines):
            raise ValueError("the lines move no money")
        return self


async def post_adjustment(services: Services, admin: Caller, body: AdjustmentRequest, idempotency_key: str) -> tuple[LedgerEntry, bool]:
    """The adjustment posted under this Idempotency-Key, and whether it was posted now (False: a retry of it)."""
    entry = ledger_entry(
        f"adjustment:{admin.user_id}:{idempotency_key}",
        LedgerKind.ADJUSTMENT,
        [(line.account, line.currency, line.amount_minor) for line in body.lines],
        LedgerCause(),
        f"adjustment by admin {admin.user_id}",
        reason=body.reason,
        admin_id=admin.user_id,
    )

    async def post(session: AsyncClientSession) -> LedgerEntry:
        return await post_entry(session, entry)

    try:
        return await in_transaction(services, post), True
    except DuplicateKeyError:
        earlier = await LedgerEntry.find_one({"key": entry.key})
        if earlier is None or earlier.lines != entry.lines or earlier.reason != entry.reason:
            raise IdempotencyKeyReused("this Idempotency-Key was sent with a different adjustment; use a new key") from None
        return earlier, False
