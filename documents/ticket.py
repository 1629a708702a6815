"""One admission to an event: who holds it and which secret version is live; the door's side is its DoorPass."""

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

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
    issued_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "tickets"
        indexes = [
            IndexModel([("order_id", ASCENDING), ("seat", ASCENDING)], unique=True, name="one_ticket_per_seat"),
            IndexModel([("holder_id", ASCENDING), ("_id", DESCENDING)], name="by_holder"),
            IndexModel([("event_id", ASCENDING), ("status", ASCENDING)], name="by_event"),
        ]

    async def revoke(self, session: AsyncClientSession) -> "Ticket":
        """Revoked for good; the version bump also puts its last secret on the revocation list."""
        updated = await self.get_pymongo_collection().find_one_and_update(
            {"_id": self.id},
            {"$set": {"status": TicketStatus.REVOKED.value}, "$inc": {"secret_version": 1}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return Ticket.model_validate(updated)

    async def reissue(self, session: AsyncClientSession) -> "Ticket":
        """A new secret for a valid ticket (a leaked QR code); every older secret stops admitting."""
        updated = await self.get_pymongo_collection().find_one_and_update(
            {"_id": self.id, "status": TicketStatus.VALID.value},
            {"$inc": {"secret_version": 1}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return Ticket.model_validate(updated) if updated else self

