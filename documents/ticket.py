"""One admission to an event: who holds it, which secret version is live, and whether its holder is inside."""

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from documents.clock import stored_now


class TicketStatus(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"


class Ticket(Document):
    event_id: PydanticObjectId
    order_id: PydanticObjectId
    # The ticket's position in its order: (order_id, seat) is unique, so issuing twice issues nothing new.
    seat: int
    ticket_type_id: PydanticObjectId
    type_name: str
    holder_id: str
    holder_name: str
    status: TicketStatus = TicketStatus.VALID
    # False once its order was refunded: scanners answer `unpaid`.
    paid: bool = True
    # Only a secret carrying this version admits; re-issuing bumps it, which revokes every older QR code.
    secret_version: int = 1
    valid_from: datetime
    valid_until: datetime
    inside: bool = False
    admitted_at: datetime | None = None
    admitted_gate: str | None = None
    # "<scanner id>:<nonce>" of the scan that last admitted the ticket: a retry of that scan answers `ok` again.
    admitted_by_scan: str | None = None
    entries: int = 0
    exited_at: datetime | None = None
    issued_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "tickets"
        indexes = [
            IndexModel([("order_id", ASCENDING), ("seat", ASCENDING)], unique=True, name="one_ticket_per_seat"),
            IndexModel([("holder_id", ASCENDING), ("_id", DESCENDING)], name="by_holder"),
            IndexModel([("event_id", ASCENDING), ("status", ASCENDING)], name="by_event"),
        ]

    @classmethod
    async def admit(
        cls, ticket_id: PydanticObjectId, version: int, gate: str, at: datetime, scan_key: str, *, reentry_allowed: bool
    ) -> bool:
        """The one atomic check-in: outside -> inside, only for a live, paid ticket whose secret is current and,
        unless re-entry is allowed, never admitted before. False when any of that does not hold."""
        expected = {"_id": ticket_id, "status": TicketStatus.VALID.value, "paid": True, "secret_version": version,
                    "inside": False}  # fmt: skip
        if not reentry_allowed:
            expected["entries"] = 0
        # update_one, not find_one_and_update: the embedded SecantusDB plans findAndModify as a collection scan.
        admitted = await cls.get_pymongo_collection().update_one(
            expected,
            {"$set": {"inside": True, "admitted_at": at, "admitted_gate": gate, "admitted_by_scan": scan_key},
             "$inc": {"entries": 1}},  # fmt: skip
        )
        return admitted.modified_count == 1

    @classmethod
    async def let_out(cls, ticket_id: PydanticObjectId, version: int, at: datetime) -> bool:
        """inside -> outside; False when the holder was not inside."""
        left = await cls.get_pymongo_collection().update_one(
            {"_id": ticket_id, "status": TicketStatus.VALID.value, "secret_version": version, "inside": True},
            {"$set": {"inside": False, "exited_at": at}},
        )
        return left.modified_count == 1

    async def revoke(self) -> "Ticket":
        """Revoked for good; the version bump also puts its last secret on the revocation list."""
        updated = await self.get_pymongo_collection().find_one_and_update(
            {"_id": self.id},
            {"$set": {"status": TicketStatus.REVOKED.value}, "$inc": {"secret_version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return Ticket.model_validate(updated)

    async def reissue(self) -> "Ticket":
        """A new secret for a valid ticket (a leaked QR code); every older secret stops admitting."""
        updated = await self.get_pymongo_collection().find_one_and_update(
            {"_id": self.id, "status": TicketStatus.VALID.value},
            {"$inc": {"secret_version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return Ticket.model_validate(updated) if updated else self
