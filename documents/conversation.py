"""A conversation between a guest and a host (about one booking, or an enquiry about one listing before booking) or
between an admin and one member (support); who takes part, what each has read, and the reports that let an admin in."""

from datetime import datetime
from enum import StrEnum
from typing import Literal

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from documents.clock import stored_now

ParticipantRole = Literal["guest", "host", "admin"]


class ConversationKind(StrEnum):
    BOOKING = "booking"
    ENQUIRY = "enquiry"
    # Opened by an admin with one member, a guest or a host: no listing, no other side.
    SUPPORT = "support"


class ReportReason(StrEnum):
    ABUSE = "abuse"
    SCAM = "scam"
    OFF_PLATFORM_PAYMENT = "off_platform_payment"
    SPAM = "spam"
    NEEDS_HELP = "needs_help"
    OTHER = "other"


class ConversationReport(BaseModel):
    by: str
    reason: ReportReason
    details: str
    at: datetime = Field(default_factory=stored_now)


class Conversation(Document):
    kind: ConversationKind
    # None for a support conversation.
    property_id: PydanticObjectId | None = None
    # Set for a booking's conversation; an enquiry has none.
    booking_id: PydanticObjectId | None = None
    # A booking's conversation: the guest's enquiry about the same listing, whose earlier messages the host can read.
    enquiry_id: PydanticObjectId | None = None
    # Both set, except in a support conversation: there only the member's side (as a guest or as a host) is.
    guest_id: str | None = None
    host_id: str | None = None
    # Admins who joined after a participant reported the conversation, or who opened or joined a support one.
    admin_ids: list[str] = Field(default_factory=list)
    # user id -> the id of the newest message they have read
    read_up_to: dict[str, PydanticObjectId] = Field(default_factory=dict)
    reports: list[ConversationReport] = Field(default_factory=list)
    # When it was last reported; admins may read it from then on.
    reported_at: datetime | None = None
    last_message_id: PydanticObjectId | None = None
    last_message_at: datetime | None = None
    created_at: datetime = Field(default_factory=stored_now)
    # When it was opened or last written in: what lists of conversations are ordered by.
    active_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "conversations"
        indexes = [
            IndexModel(
                [("booking_id", ASCENDING)],
                unique=True,
                partialFilterExpression={"kind": ConversationKind.BOOKING.value},
                name="one_per_booking",
            ),
            IndexModel(
                [("property_id", ASCENDING), ("guest_id", ASCENDING)],
                unique=True,
                partialFilterExpression={"kind": ConversationKind.ENQUIRY.value},
                name="one_enquiry_per_guest_and_listing",
            ),
            IndexModel(
                [("guest_id", ASCENDING), ("host_id", ASCENDING)],
                unique=True,
                partialFilterExpression={"kind": ConversationKind.SUPPORT.value},
                name="one_support_thread_per_member_side",
            ),
            IndexModel([("guest_id", ASCENDING), ("active_at", DESCENDING), ("_id", DESCENDING)], name="by_guest"),
            IndexModel([("host_id", ASCENDING), ("active_at", DESCENDING), ("_id", DESCENDING)], name="by_host"),
            IndexModel([("admin_ids", ASCENDING), ("active_at", DESCENDING), ("_id", DESCENDING)], name="by_admin"),
            IndexModel(
                [("reported_at", DESCENDING)],
                name="reported",
                partialFilterExpression={"reported_at": {"$type": "date"}},
            ),
        ]

    @property
    def participants(self) -> list[str]:
        return [side for side in (self.guest_id, self.host_id) if side is not None] + self.admin_ids

    def role_of(self, user_id: str) -> ParticipantRole | None:
        if user_id == self.guest_id:
            return "guest"
        if user_id == self.host_id:
            return "host"
        return "admin" if user_id in self.admin_ids else None

    async def mark_read(self, user_id: str, message_id: PydanticObjectId) -> "Conversation | None":
        """Move the user's read mark forward to `message_id`; None when it was there or further already."""
        field = f"read_up_to.{user_id}"
        return await self._update(
            {"$or": [{field: {"$exists": False}}, {field: {"$lt": message_id}}]}, {"$set": {field: message_id}}
        )

    async def note_message(self, message_id: PydanticObjectId, at: datetime) -> None:
        """The newest message and its time; a message saved earlier but noted later never moves them back."""
        await self._update(
            {"$or": [{"last_message_id": None}, {"last_message_id": {"$lt": message_id}}]},
            {"$set": {"last_message_id": message_id, "last_message_at": at, "active_at": at}},
        )

    async def add_report(self, report: ConversationReport) -> "Conversation | None":
        """Keep the report; None when this user reported the conversation already."""
        return await self._update(
            {"reports.by": {"$ne": report.by}},
            {"$push": {"reports": report.model_dump()}, "$set": {"reported_at": report.at}},
        )

    async def add_admin(self, admin_id: str) -> "Conversation | None":
        """Let an admin take part in a reported or a support conversation; None when it is neither."""
        admits = {"$or": [{"reported_at": {"$type": "date"}}, {"kind": ConversationKind.SUPPORT.value}]}
        return await self._update(admits, {"$addToSet": {"admin_ids": admin_id}})

    async def _update(self, condition: dict, change: dict) -> "Conversation | None":
        found = await self.get_pymongo_collection().find_one_and_update(
            {"_id": self.id, **condition}, change, return_document=ReturnDocument.AFTER
        )
        return None if found is None else Conversation.model_validate(found)
