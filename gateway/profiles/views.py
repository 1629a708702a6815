"""What the profile routes answer: one's own profile whole, another person's public face, host applications."""

from datetime import datetime

from pydantic import BaseModel, Field

from documents.host_application import ApplicationStatus, HostApplication
from gateway.files.views import FileView
from gateway.payouts.views import masked_phone


class RatingView(BaseModel):
    """Revealed reviews: their count and average overall rating (None before the first)."""

    count: int
    average: float | None

    @classmethod
    def of(cls, count: int, average: float) -> "RatingView":
        return cls(count=count, average=average if count else None)


class MyProfile(BaseModel):
    user_id: str
    display_name: str | None
    photo: FileView | None
    bio: str | None
    languages: list[str]
    email: str | None
    phone: str | None
    email_verified: bool
    phone_verified: bool
    roles: list[str]
    member_since: datetime
    rating: RatingView


class PublicProfile(BaseModel):
    """Only what a person shows everyone: never their email, phone or bio."""

    user_id: str
    display_name: str | None
    photo: FileView | None = Field(description="thumbnails only: the original may carry the place it was taken")
    languages: list[str]
    member_since: datetime
    badges: list[str] = Field(
        description="email_verified, phone_verified, identity_verified (an approved host application), host"
    )
    rating: RatingView


class HostApplicationView(BaseModel):
    id: str
    user_id: str
    identity_document_id: str
    payout_phone: str = Field(description="masked but for its last three digits")
    status: ApplicationStatus
    reason: str | None
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, application: HostApplication) -> "HostApplicationView":
        return cls(
            id=str(application.id),
            user_id=application.user_id,
            identity_document_id=application.identity_document_id,
            payout_phone=masked_phone(application.payout_phone),
            status=application.status,
            reason=application.reason,
            created_at=application.created_at,
            decided_at=application.decided_at,
        )


class HostApplicationPage(BaseModel):
    items: list[HostApplicationView]
    next_cursor: str | None
