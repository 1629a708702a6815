"""Admins lock an account (it cannot sign in, its sessions end and its sockets close at once) and unlock it again."""

from beanie import PydanticObjectId

from documents.audit import AuditEvent, AuditKind
from documents.user import User
from gateway.accounts.problems import AccountLockUnchanged, OwnAccountLock
from gateway.accounts.sessions import SIGNED_OUT_BY_LOCK, revoke_other_sessions
from gateway.problems import NotFound
from gateway.security.callers import Caller
from gateway.services import Services


async def _account(user_id: str) -> User:
    found = await User.get(PydanticObjectId(user_id)) if PydanticObjectId.is_valid(user_id) else None
    if found is None:
        raise NotFound("no such user")
    return found


async def lock_account(services: Services, admin: Caller, user_id: str, reason: str) -> User:
    """Lock the account and sign it out everywhere; audited with the admin and the reason.

    The lock is written before the sessions are revoked: a sign-in racing it either sees the lock when it checks
    after opening its session (sessions.refuse_if_locked), or opened its session before the lock and is revoked here."""
    account = await _account(user_id)
    if user_id == admin.user_id:
        raise OwnAccountLock()
    locked = await User.set_locked(account.id, locked=True)  # type: ignore[arg-type]
    if locked is None:
        raise AccountLockUnchanged("the account is already locked")
    await revoke_other_sessions(services, account.id, keep=None, because=SIGNED_OUT_BY_LOCK)  # type: ignore[arg-type]
    await AuditEvent.record(
        AuditKind.ACCOUNT_LOCKED_BY_ADMIN, user_id=account.id, actor_id=PydanticObjectId(admin.user_id), reason=reason
    )
    return locked


async def unlock_account(services: Services, admin: Caller, user_id: str, reason: str) -> User:
    """Let a locked account sign in again (its old sessions stay ended); audited with the admin and the reason."""
    account = await _account(user_id)
    unlocked = await User.set_locked(account.id, locked=False)  # type: ignore[arg-type]
    if unlocked is None:
        raise AccountLockUnchanged("the account is not locked")
    await AuditEvent.record(
        AuditKind.ACCOUNT_UNLOCKED_BY_ADMIN, user_id=account.id, actor_id=PydanticObjectId(admin.user_id), reason=reason
    )
    return unlocked
