"""What the privacy routes answer: requests as their owner or an admin sees them, links, consents."""

from datetime import datetime

from pydantic import BaseModel, Field

from documents.marketing_consent import MarketingConsent
from documents.privacy_request import PrivacyRequest, RequestKind, RequestStatus


class PrivacyRequestView(BaseModel):
    id: str
    kind: RequestKind
    status: RequestStatus
    requested_at: datetime
    due_at: datetime | None = Field(None, description="a deletion: when the account is erased unless cancelled")
    completed_at: datetime | None
    expires_at: datetime | None = Field(None, description="an export: until when its archive can be downloaded")
    archive_bytes: int | None
    cancelled_by: str | None = Field(None, description="user, sign_in or admin")

    @classmethod
    def of(cls, request: PrivacyRequest) -> "PrivacyRequestView":
        return cls(
            id=str(request.id), kind=request.kind, status=request.status, requested_at=request.requested_at,
            due_at=request.due_at, completed_at=request.completed_at, expires_at=request.expires_at,
            archive_bytes=request.archive_bytes, cancelled_by=request.cancelled_by,
        )  # fmt: skip


class AdminPrivacyRequestView(PrivacyRequestView):
    user_id: str = Field(description="the account's id, or its pseudonym once erased")
    admin_id: str | None
    reason: str | None
    blocked_by: str | None

    @classmethod
    def of(cls, request: PrivacyRequest) -> "AdminPrivacyRequestView":
        return cls(
            **PrivacyRequestView.of(request).model_dump(), user_id=request.user_id, admin_id=request.admin_id,
            reason=request.reason, blocked_by=request.blocked_by,
        )  # fmt: skip


class PrivacyRequestList(BaseModel):
    items: list[PrivacyRequestView]


class AdminPrivacyRequestPage(BaseModel):
    items: list[AdminPrivacyRequestView]
    next_cursor: str | None


class DownloadLink(BaseModel):
    url: str = Field(description="signed; GET it before expires_at")
    expires_at: datetime


class MarketingConsentView(BaseModel):
    granted: bool
    wording_version: str | None = Field(description="the opt-in text the person agreed to or withdrew from")
    changed_at: datetime | None
    current_wording_version: str = Field(description="the version the app must show when asking")

    @classmethod
    def of(cls, consent: MarketingConsent, current: str) -> "MarketingConsentView":
        changed_at = consent.changed_at if consent.id is not None else None
        return cls(granted=consent.granted, wording_version=consent.wording_version, changed_at=changed_at,
                   current_wording_version=current)  # fmt: skip
