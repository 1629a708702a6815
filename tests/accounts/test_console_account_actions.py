"""Locking and resetting two-factor from the console go through the admin API's own domain calls: the same checks,
the same audit entry, one security alert per reset whichever way it came, and no action without the form token."""

import re

import pytest
from aiohttp.test_utils import TestClient

from documents.audit import AuditEvent, AuditKind
from documents.notification import Notification, NotificationKind
from documents.user import User
from gateway.settings import Settings
from tests.accounts.helpers import turn_on_two_factor
from tests.accounts.test_console_sessions import console_sign_in, form_token
from tests.factories import DEFAULT_PASSWORD, access_token_for, auth_header, create_user, settings_with

REASON = "Owner lost the phone; checked against their ID on a call"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The console's admin signs in with a password alone here; two-factor sign-in has its own browser test.
    return settings_with(settings, "auth", mfa_required_roles=[])


async def _resets_alerted(user: User) -> int:
    query = {"user_id": str(user.id), "kind": NotificationKind.SECURITY_ALERT.value, "context.change": "mfa_reset"}
    return await Notification.find(query).count()


async def test_one_two_factor_reset_sends_one_alert_from_the_api_or_the_console(client: TestClient) -> None:
    admin = await create_user(client.app, roles=("guest", "admin"))
    by_api, by_console = await create_user(client.app), await create_user(client.app)
    for owner in (by_api, by_console):
        await turn_on_two_factor(client, owner.email or "")

    reset = await client.post(
        f"/v1/admin/users/{by_api.id}/2fa/reset",
        json={"reason": REASON},
        headers=auth_header(access_token_for(client.app, admin)),
    )
    await console_sign_in(client, admin.email or "")
    page = f"/console/users/{by_console.id}"
    clicked = await client.post(
        f"{page}/2fa-reset", data={"csrf": await form_token(client, page), "reason": REASON}, allow_redirects=False
    )

    assert reset.status == 200 and clicked.status == 303
    assert await _resets_alerted(by_api) == 1
    assert await _resets_alerted(by_console) == 1


async def test_an_admin_locks_and_unlocks_an_account_at_the_console(client: TestClient) -> None:
    admin = await create_user(client.app, roles=("guest", "admin"))
    owner = await create_user(client.app)
    await console_sign_in(client, admin.email or "")
    page = f"/console/users/{owner.id}"
    token = await form_token(client, page)

    forged = await client.post(f"{page}/lock", data={"reason": REASON}, allow_redirects=False)
    unexplained = await client.post(f"{page}/lock", data={"csrf": token, "reason": "no"}, allow_redirects=False)
    own = await client.post(
        f"/console/users/{admin.id}/lock", data={"csrf": token, "reason": REASON}, allow_redirects=False
    )
    assert forged.status == 403 and unexplained.status == 422 and own.status == 409
    assert (await User.get(owner.id)).locked_at is None  # type: ignore[union-attr]

    locked = await client.post(f"{page}/lock", data={"csrf": token, "reason": REASON}, allow_redirects=False)
    shown = await (await client.get(locked.headers["Location"])).text()
    assert locked.status == 303 and 'id="account-unlock"' in shown and re.search(r'id="done"', shown)
    assert (await User.get(owner.id)).locked_at is not None  # type: ignore[union-attr]
    unlocked = await client.post(
        f"{page}/unlock", data={"csrf": token, "reason": "Cleared by support"}, allow_redirects=False
    )
    assert unlocked.status == 303 and (await User.get(owner.id)).locked_at is None  # type: ignore[union-attr]
    kinds = [event.kind async for event in AuditEvent.find({"user_id": owner.id, "actor_id": admin.id}).sort("_id")]
    assert kinds == [AuditKind.ACCOUNT_LOCKED_BY_ADMIN, AuditKind.ACCOUNT_UNLOCKED_BY_ADMIN]


async def test_a_locked_account_is_sent_out_of_the_console_and_told_why_at_sign_in(client: TestClient) -> None:
    admin = await create_user(client.app, roles=("guest", "admin"))
    owner = await create_user(client.app, roles=("guest", "agent"))
    await console_sign_in(client, owner.email or "")
    assert (await client.get("/console/bookings", allow_redirects=False)).status == 200

    locked = await client.post(
        f"/v1/admin/users/{owner.id}/lock",
        json={"reason": REASON},
        headers=auth_header(access_token_for(client.app, admin)),
    )
    sent_out = await client.get("/console/bookings", allow_redirects=False)
    token = await form_token(client, "/console/sign-in")
    refused = await client.post(
        "/console/sign-in", data={"csrf": token, "identifier": owner.email, "password": DEFAULT_PASSWORD}
    )

    assert locked.status == 200
    assert sent_out.status == 303 and sent_out.headers["Location"] == "/console/sign-in"
    assert refused.status == 403 and "An administrator has locked this account." in await refused.text()
