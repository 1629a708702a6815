"""What the review routes answer: a review as others see it, a stay's reviews as its guest or host sees them."""

from datetime import datetime

from pydantic import BaseModel, Field

from documents.review import ReportStatus, Review, ReviewerRole, ReviewReport


class ReplyView(BaseModel):
    text: str
    at: datetime


class ReviewView(BaseModel):
    id: str
    booking_id: str | None
    event_id: str | None
    property_id: str | None
    author_id: str
    author_name: str | None
    subject_id: str
    author_role: ReviewerRole
    overall: int
    ratings: dict[str, int]
    comment: str
    created_at: datetime
    revealed: bool = Field(description="false only for the author's own review while it is sealed")
    reply: ReplyView | None

    @classmethod
    def of(cls, review: Review, now: datetime, author_name: str | None) -> "ReviewView":
        reply = ReplyView(text=review.reply.text, at=review.reply.at) if review.reply else None
        return cls(
            id=str(review.id),
            booking_id=review.booking_id,
            event_id=review.event_id,
            property_id=review.property_id,
            author_id=review.author_id,
            author_name=author_name,
            subject_id=review.subject_id,
            author_role=review.author_role,
            overall=review.overall,
            ratings=review.ratings,
            comment=review.comment,
            created_at=review.created_at,
            revealed=review.visible_at(now),
            reply=reply,
        )


class ReviewPage(BaseModel):
    items: list[ReviewView]
    next_cursor: str | None


class StayReviews(BaseModel):
    """A stay's (or an attendee's visit's) reviews as one of its two sides sees them: their own, and the other's once
    it is revealed."""

    booking_id: str | None
    event_id: str | None
    window_closes_at: datetime
    mine: ReviewView | None
    theirs: ReviewView | None
    theirs_submitted: bool = Field(
        description="whether the other side wrote theirs (its content stays sealed until revealed)"
    )


class ReportView(BaseModel):
    id: str
    review_id: str
    reporter_id: str
    reason: str
    status: ReportStatus
    created_at: datetime

    @classmethod
    def of(cls, report: ReviewReport) -> "ReportView":
        return cls(
            id=str(report.id),
            review_id=report.review_id,
            reporter_id=report.reporter_id,
            reason=report.reason,
            status=report.status,
            created_at=report.created_at,
        )


class ReportPage(BaseModel):
    items: list[ReportView]
    next_cursor: str | None
