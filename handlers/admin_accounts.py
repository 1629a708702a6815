"""Admin views of accounts: granting and removing roles, resetting a locked-out owner's two-factor, the audit log."""

from aiohttp import web
from pydantic import Field

from documents.audit import AuditKind
from documents.user import Role
from gateway.accounts import locking, two_factor
from gateway.accounts import roles as role_changes
from gateway.accounts.audit_log import audit_events
from gateway.accounts.views import AccountView, AuditEventView, AuditPage
from gateway.http_access import roles
from gateway.problems import NotFound, input_prefix
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="admin")
ADMINS = roles("admin")
ROLE_NAMES: tuple[Role, ...] = ("guest", "agent", "admin", "scanner")


class AuditQuery(RequestModel):
    user_id: str | None = Field(None, pattern=r"^[0-9a-f]{24}$")
    kind: AuditKind | None = None
    cursor: str | None = Field(None, description="`next_cursor` of the previous page")
    limit: int = Field(50, ge=1, le=200)


@routes.get(
    "/v1/admin/audit",
    query=AuditQuery,
    response=AuditPage,
    access=ADMINS,
    problems=(400,),
    summary="The security audit log, newest first",
)
async def audit_log(request: web.Request, caller: Caller, query: AuditQuery) -> AuditPage:
    events, next_cursor = await audit_events(query.user_id, query.kind, query.cursor, query.limit)
    return AuditPage(items=[AuditEventView.of(event) for event in events], next_cursor=next_cursor)


def role_of(request: web.Request) -> Role:
    role = request.match_info["role"]
    if role not in ROLE_NAMES:
        raise NotFound(f"no role {input_prefix(role)!r}; roles are {', '.join(ROLE_NAMES)}")
    return role  # type: ignore[return-value]


@routes.put(
    "/v1/admin/users/{user_id}/roles/{role}",
    access=ADMINS,
    response=AccountView,
    problems=(409,),
    summary="Grant a role",
    description="Refused with `account-being-erased` (409) once the account's erasure has begun.",
)
async def grant_role(request: web.Request, caller: Caller) -> AccountView:
    user = await role_changes.change_role(
        request.app[SERVICES], caller, request.match_info["user_id"], role_of(request), granted=True
    )
    return AccountView.of(user)


@routes.delete(
    "/v1/admin/users/{user_id}/roles/{role}",
    access=ADMINS,
    response=AccountView,
    problems=(409,),
    summary="Remove a role; the account is signed out everywhere",
)
async def remove_role(request: web.Request, caller: Caller) -> AccountView:
    user = await role_changes.change_role(
        request.app[SERVICES], caller, request.match_info["user_id"], role_of(request), granted=False
    )
    return AccountView.of(user)


class TwoFactorReset(RequestModel):
    reason: str = Field(
        min_length=10,
        max_length=500,
        description="How the owner's identity was checked, and why: kept in the audit log",
    )


@routes.post(
    "/v1/admin/users/{user_id}/2fa/reset",
    access=ADMINS,
    body=TwoFactorReset,
    response=AccountView,
    problems=(409,),
    summary="Turn off a locked-out user's two-factor; they are signed out everywhere and alerted",
    description="For an owner who lost their authenticator and backup codes, or whose two-factor someone else turned "
    "on: check who they are by other means first. Audited as `mfa_reset` with the reason; `mfa-not-enabled` when "
    "two-factor is off, `own-two-factor-reset` for the admin's own account. If their role needs two-factor, their "
    "next sign-in asks them to enrol again.",
)
async def reset_two_factor(request: web.Request, caller: Caller, body: TwoFactorReset) -> AccountView:
    user = await two_factor.reset_by_admin(request.app[SERVICES], caller, request.match_info["user_id"], body.reason)
    return AccountView.of(user)


class AccountLockChange(RequestModel):
    reason: str = Field(min_length=5, max_length=500, description="Why: kept in the audit log")


@routes.post(
    "/v1/admin/users/{user_id}/lock",
    access=ADMINS,
    body=AccountLockChange,
    response=AccountView,
    problems=(404, 409),
    summary="Lock an account: it cannot sign in, and it is signed out everywhere at once",
    description="Its sessions end and its sockets close at once, its API keys stop working while it is locked, and a "
    "sign-in or refresh answers 403 `account-suspended`. Audited as `account_locked_by_admin` with the reason; "
    "`account-lock-unchanged` when it is locked already, `own-account-lock` for the admin's own account.",
)
async def lock_account(request: web.Request, caller: Caller, body: AccountLockChange) -> AccountView:
    user = await locking.lock_account(request.app[SERVICES], caller, request.match_info["user_id"], body.reason)
    return AccountView.of(user)


@routes.post(
    "/v1/admin/users/{user_id}/unlock",
    access=ADMINS,
    body=AccountLockChange,
    response=AccountView,
    problems=(404, 409),
    summary="Unlock a locked account: it may sign in again",
    description="Audited as `account_unlocked_by_admin` with the reason; `account-lock-unchanged` when it is not locked.",
)
async def unlock_account(request: web.Request, caller: Caller, body: AccountLockChange) -> AccountView:
    user = await locking.unlock_account(request.app[SERVICES], caller, request.match_info["user_id"], body.reason)
    return AccountView.of(user)
