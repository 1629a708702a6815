"""Reviews after a stay, guest of host and host of guest: double-blind until both are in or the window closes."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.clock import stored_now


class ReviewerRole(StrEnum):
    GUEST = "guest"
    HOST = "host"


# What each side rates, one to five stars each, besides the overall rating.
CATEGORIES: dict[ReviewerRole, tuple[str, ...]] = {
    ReviewerRole.GUEST: ("cleanliness", "accuracy", "communication", "location", "check_in", "value"),
    ReviewerRole.HOST: ("cleanliness", "communication", "house_rules"),
}
# An attendee rates the event; its host rates the attendee.
EVENT_CATEGORIES: dict[ReviewerRole, tuple[str, ...]] = {
    ReviewerRole.GUEST: ("organisation", "venue", "value"),
    ReviewerRole.HOST: ("conduct",),
}


class ReviewReply(BaseModel):
    text: str
    at: datetime


class Review(Document):
    # What is reviewed: "booking:<id>" for a stay, "event:<event id>:<attendee id>" for one attendee at an event.
    occasion: str
    booking_id: str | None = None
    event_id: str | None = None
    # The listing of a stay: a guest's review counts in its average.
    property_id: str | None = None
    author_id: str
    # The person reviewed: the host for a guest's review, the guest for a host's.
    subject_id: str
    author_role: ReviewerRole
    overall: int
    ratings: dict[str, int]
    comment: str
    created_at: datetime = Field(default_factory=stored_now)
    # When the stay's review window closes: the review is public from then on, whether or not the other side wrote.
    window_closes_at: datetime
    # Set once both sides are in (or by the sweep after the window closed).
    revealed_at: datetime | None = None
    # Whether the rating is in the listing's and the subject's averages; moves once each way, in a transaction.
    counted: bool = False
    reply: ReviewReply | None = None
    # Hidden by an admin after a report: out of every public view and of the averages.
    hidden_at: datetime | None = None

    class Settings:
        name = "reviews"
        indexes = [
            IndexModel(
                [("occasion", ASCENDING), ("author_id", ASCENDING)], unique=True, name="one_review_per_party_per_stay"
            ),
            IndexModel(
                [("property_id", ASCENDING), ("author_role", ASCENDING), ("_id", DESCENDING)], name="by_listing"
            ),
            IndexModel([("event_id", ASCENDING), ("author_role", ASCENDING), ("_id", DESCENDING)], name="by_event"),
            IndexModel([("subject_id", ASCENDING), ("_id", DESCENDING)], name="by_subject"),
            IndexModel([("counted", ASCENDING), ("window_closes_at", ASCENDING)], name="awaiting_reveal"),
        ]

    def visible_at(self, now: datetime) -> bool:
        """Public: revealed, or its window closed (read by the clock, so no sweep needs to have run)."""
        return self.hidden_at is None and (self.revealed_at is not None or self.window_closes_at <= now)

    @staticmethod
    def visible_filter(now: datetime) -> dict[str, Any]:
        """The query form of `visible_at`."""
        return {"hidden_at": None, "$or": [{"revealed_at": {"$ne": None}}, {"window_closes_at": {"$lte": now}}]}

    @classmethod
    async def reveal_occasion(cls, occasion: str, now: datetime) -> None:
        """Both sides are in: reveal every review of the stay (or the visit) still sealed."""
        await cls.get_pymongo_collection().update_many(
            {"occasion": occasion, "revealed_at": None}, {"$set": {"revealed_at": now}}
        )

    async def mark_counted(self, counted: bool, session: AsyncClientSession) -> bool:
        """Flip whether the rating is counted; False when it already was (or was not): the caller then changes nothing.
        A hidden review is never counted in, so a count racing an admin's hide cannot bring it back."""
        match: dict[str, Any] = {"_id": self.id, "counted": not counted}
        if counted:
            match["hidden_at"] = None
        result = await self.get_pymongo_collection().update_one(match, {"$set": {"counted": counted}}, session=session)
        return result.modified_count == 1

    async def add_reply(self, text: str, now: datetime) -> bool:
        """The subject's one public reply; False when there is one already."""
        result = await self.get_pymongo_collection().update_one(
            {"_id": self.id, "reply": None}, {"$set": {"reply": {"text": text, "at": now}}}
        )
        return result.modified_count == 1

    async def hide(self, now: datetime) -> bool:
        """Out of every public view; False when it was hidden already."""
        result = await self.get_pymongo_collection().update_one(
            {"_id": self.id, "hidden_at": None}, {"$set": {"hidden_at": now}}
        )
        return result.modified_count == 1


class ReportStatus(StrEnum):
    OPEN = "open"
    HIDDEN = "hidden"
    DISMISSED = "dismissed"


class ReviewReport(Document):
    """Someone's report that a review is abusive, for admins to hide it or dismiss the report."""

    review_id: str
    reporter_id: str
    reason: str
    status: ReportStatus = ReportStatus.OPEN
    resolved_by: str | None = None
    created_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "review_reports"
        indexes = [
            IndexModel(
                [("review_id", ASCENDING), ("reporter_id", ASCENDING)], unique=True, name="one_report_per_person"
            ),
            IndexModel([("status", ASCENDING), ("_id", DESCENDING)], name="by_status"),
        ]

    @classmethod
    async def resolve_all(cls, review_id: str, status: ReportStatus, admin_id: str) -> int:
        result = await cls.get_pymongo_collection().update_many(
            {"review_id": review_id, "status": ReportStatus.OPEN.value},
            {"$set": {"status": status.value, "resolved_by": admin_id}},
        )
        return result.modified_count
