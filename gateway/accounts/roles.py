"""Admins grant and remove roles; each change is audited, and a removal signs the account out everywhere (and an agent's
API keys stop working)."""

from beanie import PydanticObjectId

from documents.api_key import ApiKey, ApiKeyGone
from documents.audit import AuditEvent, AuditKind
from documents.clock import stored_now
from documents.user import Role, User
from gateway.accounts.problems import OwnAdminRole
from gateway.accounts.sessions import revoke_other_sessions
from gateway.problems import NotFound
from gateway.security.callers import ADMIN, Caller
from gateway.services import Services


async def change_role(services: Services, admin: Caller, user_id: str, role: Role, *, granted: bool) -> User:
    if not PydanticObjectId.is_valid(user_id):
        raise NotFound("no such user")
    if not granted and role == ADMIN and user_id == admin.user_id:
        raise OwnAdminRole()
    user = await User.set_role(PydanticObjectId(user_id), role, granted=granted)
    if user is None:
        raise NotFound("no such user")
    if not granted:
        # Access tokens carry roles; signing out makes the removal take effect now, not in 15 minutes.
        await revoke_other_sessions(services, user.id, keep=None, because="role_removed")  # type: ignore[arg-type]
    await AuditEvent.record(
        AuditKind.ROLE_GRANTED if granted else AuditKind.ROLE_REMOVED,
        user_id=user.id,
        actor_id=PydanticObjectId(admin.user_id),
        role=role,
    )
    if not granted and role == "agent":
        await _revoke_api_keys(user, admin)
    return user


async def _revoke_api_keys(agent: User, admin: Caller) -> None:
    """An integration reads for an agent: once the account is no longer one, none of its keys works again."""
    for key in await ApiKey.live_keys_of(str(agent.id)):
        try:
            await ApiKey.revoke(key.id, stored_now())  # type: ignore[arg-type]
        except ApiKeyGone:
            continue  # revoked meanwhile by an admin, who audited it
        await AuditEvent.record(
            AuditKind.API_KEY_REVOKED,
            user_id=agent.id,
            actor_id=PydanticObjectId(admin.user_id),
            key_id=str(key.id),
            name=key.name,
            because="role_removed",
        )
