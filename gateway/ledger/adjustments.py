"""An admin's manual correction: a new balanced entry with its reason and the admin's id; nothing is ever edited."""

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from documents.ledger_entry import LedgerCause, LedgerEntry, LedgerKind
from gateway.database import in_transaction
from gateway.idempotency import IdempotencyKeyReused
from gateway.ledger.posting import Line, ledger_entry, post_entry
from gateway.problems import Forbidden
from gateway.security.callers import Caller
from gateway.services import Services


async def post_adjustment(
    services: Services, admin: Caller, lines: list[Line], reason: str, idempotency_key: str
) -> tuple[LedgerEntry, bool]:
    """The adjustment posted under this Idempotency-Key, and whether it was posted now (False: a retry of it)."""
    if not admin.is_admin:
        raise Forbidden("only admins adjust the ledger")
    entry = ledger_entry(
        f"adjustment:{admin.user_id}:{idempotency_key}",
        LedgerKind.ADJUSTMENT,
        lines,
        LedgerCause(),
        f"adjustment by admin {admin.user_id}",
        reason=reason,
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
