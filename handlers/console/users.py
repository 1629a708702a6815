"""Admins' account pages: the newest accounts, finding one by id, email or phone, its roles, lock, two-factor reset
and sessions; each action the admin API's own domain call under the admin API's own role check."""

from aiohttp import web
from beanie import PydanticObjectId

from documents.session import Session
from documents.user import User
from gateway.accounts import locking, sessions, two_factor
from gateway.accounts import roles as role_changes
from gateway.accounts.provisioning import account_named
from gateway.paging import newest_first
from gateway.problems import NotFound, Problem
from gateway.request_models import validate
from gateway.state import SERVICES
from handlers.admin_accounts import ADMINS, ROLE_NAMES, AccountLockChange, TwoFactorReset, role_of
from handlers.console.session import SignedIn, check_form_token, console_page, render_for, see_other, signed_in

routes = web.RouteTableDef()
USERS = "/console/users"
PAGE_SIZE = 20
# What a finished action says on the page it returns to: a closed set, so the address never carries text to show.
DONE = frozenset({"role_granted", "role_removed", "mfa_reset", "session_revoked", "locked", "unlocked"})


@routes.get(USERS)
@console_page
async def list_users(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    wanted = request.query.get("q", "").strip()[:254]
    if wanted:
        try:
            found = await account_named(wanted)
        except Problem as problem:
            return await _users_page(request, at, wanted, problem=problem)
        if found is not None:
            return see_other(f"{USERS}/{found.id}")
        return await _users_page(request, at, wanted, not_found=True)
    return await _users_page(request, at, wanted)


async def _users_page(request: web.Request, at: SignedIn, wanted: str, **outcome: object) -> web.Response:
    try:
        accounts, next_cursor = await newest_first(User, {}, request.query.get("cursor"), PAGE_SIZE)
    except Problem as problem:
        accounts, next_cursor, outcome = [], None, {**outcome, "problem": problem}
    context = {"problem": None, "not_found": False, **outcome}
    return await render_for(
        request, at, "users.html", wanted=wanted, accounts=accounts, next_cursor=next_cursor, **context
    )


async def _account(user_id: str) -> User:
    found = await User.get(PydanticObjectId(user_id)) if PydanticObjectId.is_valid(user_id) else None
    if found is None:
        raise NotFound("no such user")
    return found


async def _account_page(request: web.Request, at: SignedIn, account: User, **outcome: object) -> web.Response:
    open_sessions = await Session.open_sessions_of(account.id)  # type: ignore[arg-type]
    done = request.query.get("done")
    context = {"problem": None, **outcome}
    # A refused action answers its problem's status, so the browser's history and any client see it failed.
    status = context["problem"].status if isinstance(context["problem"], Problem) else 200
    return await render_for(
        request, at, "user.html", status=status, account=account, sessions=open_sessions, role_names=ROLE_NAMES,
        done=done if done in DONE else None, **context,
    )  # fmt: skip


@routes.get(USERS + "/{user_id}")
@console_page
async def show_user(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, ADMINS)
    return await _account_page(request, at, await _account(request.match_info["user_id"]))


@routes.post(USERS + "/{user_id}/roles/{role}")
@console_page
async def change_role(request: web.Request) -> web.StreamResponse:
    """Grant (`change=grant`) or remove (`change=remove`) a role, as PUT and DELETE /v1/admin/users/{id}/roles/{role}."""
    at = await signed_in(request, ADMINS)
    form = await check_form_token(request, at.session)
    user_id, granted = request.match_info["user_id"], form.get("change") == "grant"
    try:
        await role_changes.change_role(request.app[SERVICES], at.caller, user_id, role_of(request), granted=granted)
    except Problem as problem:
        return await _account_page(request, at, await _account(user_id), problem=problem)
    return see_other(f"{USERS}/{user_id}?done={'role_granted' if granted else 'role_removed'}")


@routes.post(USERS + "/{user_id}/sessions/{session_id}/revoke")
@console_page
async def revoke_session(request: web.Request) -> web.StreamResponse:
    """Sign one of the account's devices out, audited with the admin as its actor."""
    at = await signed_in(request, ADMINS)
    await check_form_token(request, at.session)
    user_id = request.match_info["user_id"]
    await sessions.revoke_session(
        request.app[SERVICES], user_id, request.match_info["session_id"], because="revoked_by_admin", admin=at.caller
    )
    return see_other(f"{USERS}/{user_id}?done=session_revoked")


@routes.post(USERS + "/{user_id}/2fa-reset")
@console_page
async def reset_two_factor(request: web.Request) -> web.StreamResponse:
    """As POST /v1/admin/users/{id}/2fa/reset: audited with the admin's reason, the owner signed out and alerted."""
    at = await signed_in(request, ADMINS)
    form = await check_form_token(request, at.session)
    user_id, services = request.match_info["user_id"], request.app[SERVICES]
    try:
        body = validate(TwoFactorReset, {"reason": form.get("reason", "")}, location="body")
        await two_factor.reset_by_admin(services, at.caller, user_id, body.reason)  # type: ignore[attr-defined]
    except Problem as problem:
        return await _account_page(request, at, await _account(user_id), problem=problem)
    return see_other(f"{USERS}/{user_id}?done=mfa_reset")


@routes.post(USERS + "/{user_id}/{change:lock|unlock}")
@console_page
async def change_lock(request: web.Request) -> web.StreamResponse:
    """As POST /v1/admin/users/{id}/lock and /unlock: audited with the admin's reason; a lock signs the account out."""
    at = await signed_in(request, ADMINS)
    form = await check_form_token(request, at.session)
    user_id, change = request.match_info["user_id"], request.match_info["change"]
    act = locking.lock_account if change == "lock" else locking.unlock_account
    try:
        body = validate(AccountLockChange, {"reason": form.get("reason", "")}, location="body")
        await act(request.app[SERVICES], at.caller, user_id, body.reason)  # type: ignore[attr-defined]
    except Problem as problem:
        return await _account_page(request, at, await _account(user_id), problem=problem)
    return see_other(f"{USERS}/{user_id}?done={change}ed")
