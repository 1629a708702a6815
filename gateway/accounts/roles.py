"""Admins (through the API) and operators (through `lango users`) grant and remove roles; each change is audited, and a
removal signs the account out everywhere (and an agent's API keys stop working)."""

from beanie import PydanticObjectId

from documents.api_key import ApiKey, ApiKeyGone
from documents.audit import AuditEvent, AuditKind
from documents.clock import stored_now
from documents.user import Role, User
from gateway.accounts.problems import AccountBeingErased, OwnAdminRole
from gateway.accounts.sessions import revoke_other_sessions
from gateway.problems import NotFound
from gateway.security.callers import ADMIN, Caller
from gateway.services import Services


async def change_role(services: Services, admin: Caller | None, user_id: str, role: Role, *, granted: bool) -> User:
    """Grant or remove `role`; `admin` is the signed-in admin asking, or None for the operator at the server's command
    line (audited as `via: cli`). No role is granted once the account's erasure has begun (`account-being-erased`)."""
    if not PydanticObjectId.is_valid(user_id):
        raise NotFound("no such user")
    if not granted and role == ADMIN and admin is not None and user_id == admin.user_id:
        raise OwnAdminRole()
    user = await User.set_role(PydanticObjectId(user_id), role, granted=granted)
    if user is None:
        if granted and await User.erasure_started(PydanticObjectId(user_id)):
            raise AccountBeingErased()
        raise NotFound("no such user")
    if not granted:
        # Access tokens carry roles; signing out makes the removal take effect now, not in 15 minutes.
        await revoke_other_sessions(services, user.id, keep=None, because="role_removed")  # type: ignore[arg-type]
    await AuditEvent.record(
        AuditKind.ROLE_GRANTED if granted else AuditKind.ROLE_REMOVED,
        user_id=user.id,
        actor_id=_actor_id(admin),
        role=role,
        **_via(admin),
    )
    if not granted and role == "agent":
        await _revoke_api_keys(user, admin)
    return user


def _actor_id(admin: Caller | None) -> PydanticObjectId | None:
    return PydanticObjectId(admin.user_id) if admin is not None else None


def _via(admin: Caller | None) -> dict[str, str]:
    return {} if admin is not None else {"via": "cli"}


async def _revoke_api_keys(agent: User, admin: Caller | None) -> None:
    """An integration reads for an agent: once the account is no longer one, none of its keys works again."""
    for key in await ApiKey.live_keys_of(str(agent.id)):
        try:
            await ApiKey.revoke(key.id, stored_now())  # type: ignore[arg-type]
        except ApiKeyGone:
            continue  # revoked meanwhile by an admin, who audited it
        await AuditEvent.record(
            AuditKind.API_KEY_REVOKED,
            user_id=agent.id,
            actor_id=_actor_id(admin),
            key_id=str(key.id),
            name=key.name,
            because="role_removed",
            **_via(admin),
        )
