"""The security audit log: who did what to which account, appended once, read by admins newest first."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import DESCENDING, IndexModel


class AuditKind(StrEnum):
    SIGNUP = "signup"
    ACCOUNT_CREATED = "account_created"
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    ACCOUNT_LOCKED = "account_locked"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    MFA_ENABLED = "mfa_enabled"
    MFA_DISABLED = "mfa_disabled"
    MFA_FAILED = "mfa_failed"
    MFA_RESET = "mfa_reset"
    ROLE_GRANTED = "role_granted"
    ROLE_REMOVED = "role_removed"
    SESSION_REVOKED = "session_revoked"
    API_KEY_CREATED = "api_key_created"
    API_KEY_ROTATED = "api_key_rotated"
    API_KEY_REVOKED = "api_key_revoked"
    # An admin read a reported conversation, or joined it.
    CONVERSATION_READ = "conversation_read"
    CONVERSATION_JOINED = "conversation_joined"
    # An admin opened (or joined) a support conversation with a member.
    SUPPORT_CONVERSATION_OPENED = "support_conversation_opened"
    EMAIL_CHANGED = "email_changed"
    PHONE_CHANGED = "phone_changed"
    HOST_APPLICATION_APPROVED = "host_application_approved"
    HOST_APPLICATION_REFUSED = "host_application_refused"
    REVIEW_HIDDEN = "review_hidden"
    ACCOUNT_LOCKED_BY_ADMIN = "account_locked_by_admin"
    ACCOUNT_UNLOCKED_BY_ADMIN = "account_unlocked_by_admin"
    PAYMENT_REFUNDED_BY_ADMIN = "payment_refunded_by_admin"
    PAYOUT_RETRIED_BY_ADMIN = "payout_retried_by_admin"
    ACCOUNT_DELETION_REQUESTED = "account_deletion_requested"
    ACCOUNT_DELETION_CANCELLED = "account_deletion_cancelled"
    ACCOUNT_ERASED = "account_erased"
    DATA_EXPORT_REQUESTED = "data_export_requested"
    DATA_EXPORT_DOWNLOADED = "data_export_downloaded"
    MARKETING_CONSENT_CHANGED = "marketing_consent_changed"
    RECONCILIATION_REQUESTED = "reconciliation_requested"


class AuditEvent(Document):
    kind: AuditKind
    user_id: PydanticObjectId | None = None
    actor_id: PydanticObjectId | None = None
    client_address: str | None = None
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    details: dict[str, Any] = Field(default_factory=dict)

    class Settings:
        name = "audit_events"
        indexes = [
            IndexModel([("user_id", 1), ("_id", DESCENDING)], name="by_user"),
            IndexModel([("kind", 1), ("_id", DESCENDING)], name="by_kind"),
        ]

    @classmethod
    async def record(
        cls,
        kind: AuditKind,
        *,
        user_id: PydanticObjectId | None,
        actor_id: PydanticObjectId | None = None,
        client_address: str | None = None,
        **details: Any,
    ) -> None:
        await cls(
            kind=kind, user_id=user_id, actor_id=actor_id, client_address=client_address, details=details
        ).insert()
