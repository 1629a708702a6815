"""The security audit log as admins read it: newest first, of one account or one kind, paged by the last id seen."""

from typing import Any

from beanie import PydanticObjectId

from documents.audit import AuditEvent, AuditKind
from gateway.paging import newest_first


async def audit_events(
    user_id: str | None, kind: AuditKind | None, after: str | None, limit: int
) -> tuple[list[AuditEvent], str | None]:
    """One page of audit events, and the cursor of the next (None on the last)."""
    scope: dict[str, Any] = {}
    if user_id is not None:
        scope["user_id"] = PydanticObjectId(user_id)
    if kind is not None:
        scope["kind"] = kind.value
    return await newest_first(AuditEvent, scope, after, limit)
