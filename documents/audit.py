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
        await cls(kind=kind, user_id=user_id, actor_id=actor_id, client_address=client_address, details=details).insert()
