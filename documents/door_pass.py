"""What the door checks for one ticket: a small document with no secondary index, so a check-in is one cheap
conditional update. Its status, paid and secret_version follow the ticket's, written in the same transaction."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import BulkWriteError

from documents.duplicates import only_duplicates
from documents.scan_record import ScanDirection, ScanResult
from documents.ticket import Ticket, TicketStatus

# How many recent scans a pass remembers: a retried nonce among them is answered again, never applied twice.
REMEMBERED_SCANS = 32


class ScanMark(BaseModel):
    """A scan the pass has answered, written with the change it made (if any): enough to give a retry of the scan
    the very answer the first attempt got."""

    # "<scanner id>:<nonce>"
    key: str
    result: ScanResult
    direction: ScanDirection
    gate: str
    # When the scan was judged: now for a live scan, the device's scanned_at for an offline one.
    at: datetime
    # For already_redeemed: the admission it ran into.
    redeemed_at: datetime | None = None
    redeemed_gate: str | None = None
    offline: bool = False
    # An offline entry the device let through for a ticket already admitted elsewhere.
    conflict: bool = False


class DoorPass(Document):
    # The pass's id is its ticket's id.
    event_id: PydanticObjectId
    status: TicketStatus
    paid: bool
    secret_version: int
    inside: bool = False
    entries: int = 0
    admitted_at: datetime | None = None
    admitted_gate: str | None = None
    exited_at: datetime | None = None
    # Written in the same update as the change it answers, so a scan is applied at most once.
    scans: list[ScanMark] = Field(default_factory=list)

    class Settings:
        name = "door_passes"

    @classmethod
    async def open_for(cls, tickets: Sequence[Ticket], session: AsyncClientSession | None = None) -> None:
        """Passes for freshly issued tickets; running it again for the same tickets opens nothing new."""
        passes = [cls._mirror(ticket) | {"_id": ticket.id, "event_id": ticket.event_id, "inside": False, "entries": 0,
                                         "scans": []} for ticket in tickets]  # fmt: skip
        try:
            await cls.get_pymongo_collection().insert_many(passes, ordered=False, session=session)
        except BulkWriteError as error:
            if not only_duplicates(error):
                raise

    @classmethod
    async def follow(cls, ticket: Ticket, session: AsyncClientSession) -> None:
        """Copy the ticket's status, paid and secret version onto its pass, inside the ticket's transaction."""
        await cls.get_pymongo_collection().update_one(
            {"_id": ticket.id},
            {"$set": cls._mirror(ticket),
             "$setOnInsert": {"event_id": ticket.event_id, "inside": False, "entries": 0, "scans": []}},  # fmt: skip
            upsert=True,
            session=session,
        )

    @classmethod
    async def admit(cls, ticket_id: PydanticObjectId, version: int, mark: ScanMark, *, reentry_allowed: bool) -> bool:
        """The one atomic check-in: outside -> inside, only for a live, paid ticket whose secret is current, that
        has not seen this scan before and, unless re-entry is allowed, was never admitted. False when any fails."""
        expected = {"_id": ticket_id, "status": TicketStatus.VALID.value, "paid": True, "secret_version": version,
                    "inside": False, "scans.key": {"$ne": mark.key}}  # fmt: skip
        if not reentry_allowed:
            expected["entries"] = 0
        # update_one, not find_one_and_update: the embedded SecantusDB plans findAndModify as a collection scan.
        admitted = await cls.get_pymongo_collection().update_one(
            expected,
            {"$set": {"inside": True, "admitted_at": mark.at, "admitted_gate": mark.gate}, "$inc": {"entries": 1},
             "$push": _remembered(mark)},  # fmt: skip
        )
        return admitted.modified_count == 1

    @classmethod
    async def let_out(cls, ticket_id: PydanticObjectId, version: int, mark: ScanMark) -> bool:
        """inside -> outside; False when the holder was not inside or this scan was seen before."""
        left = await cls.get_pymongo_collection().update_one(
            {"_id": ticket_id, "status": TicketStatus.VALID.value, "secret_version": version, "inside": True,
             "scans.key": {"$ne": mark.key}},  # fmt: skip
            {"$set": {"inside": False, "exited_at": mark.at}, "$push": _remembered(mark)},
        )
        return left.modified_count == 1

    @classmethod
    async def remember_refusal(cls, ticket_id: PydanticObjectId, mark: ScanMark) -> bool:
        """Record a scan that changed nothing, so its retry cannot change anything later; False if already seen."""
        remembered = await cls.get_pymongo_collection().update_one(
            {"_id": ticket_id, "scans.key": {"$ne": mark.key}}, {"$push": _remembered(mark)}
        )
        return remembered.modified_count == 1

    def scan_mark(self, key: str) -> ScanMark | None:
        """How this pass answered the scan, if it has seen it."""
        return next((mark for mark in self.scans if mark.key == key), None)

    @staticmethod
    def _mirror(ticket: Ticket) -> dict[str, Any]:
        return {"status": ticket.status.value, "paid": ticket.paid, "secret_version": ticket.secret_version}


def _remembered(mark: ScanMark) -> dict[str, Any]:
    return {"scans": {"$each": [mark.model_dump()], "$slice": -REMEMBERED_SCANS}}
