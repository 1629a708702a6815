"""`lango admin create` and `lango users grant|revoke`, run as the operator runs them, against the test database."""

import asyncio

import pytest
import socketio
from aiohttp.test_utils import TestClient

from documents.audit import AuditEvent, AuditKind
from documents.user import User
from tests.accounts.helpers import sign_in
from tests.factories import create_user

STRONG = "kilimanjaro sunrise over amboseli"
pytestmark = pytest.mark.timeout(120)


async def test_the_first_admin_is_made_once_and_signs_in(client: TestClient, lango) -> None:  # type: ignore[no-untyped-def]
    weak = await lango("admin", "create", "--email", "Ops@Example.com", "--password-stdin", stdin="password123\n")
    assert weak.code == 1 and "stronger password" in weak.err
    assert await User.count() == 0

    create = ("admin", "create", "--email", "Ops@Example.com", "--phone", "0712345678", "--password-stdin")
    # Run twice at once: the unique email and phone leave one account, and the second run finds it.
    racing = await asyncio.gather(lango(*create, stdin=STRONG + "\n"), lango(*create, stdin=STRONG + "\n"))
    assert [run.code for run in racing] == [0, 0], [run.err for run in racing]
    assert sorted("created admin ops@example.com" in run.out for run in racing) == [False, True]
    again = await lango("admin", "create", "--email", "ops@example.com", "--password-stdin", stdin=STRONG + "\n")
    assert again.code == 0 and "already an admin: nothing changed" in again.out

    admin = await User.find_one({"email": "ops@example.com"})
    assert await User.count() == 1 and admin is not None
    assert admin.roles == ["guest", "admin"] and admin.phone == "+254712345678"
    assert admin.email_verified_at and admin.phone_verified_at
    created = await AuditEvent.find({"kind": AuditKind.ACCOUNT_CREATED}).to_list()
    assert [(event.user_id, event.details) for event in created] == [(admin.id, {"via": "cli", "roles": ["guest", "admin"]})]
    # Admins need two-factor: the password is right, and the next step is enrolling.
    signed = await sign_in(client, "ops@example.com", STRONG)
    assert signed["status"] == "mfa_enrolment_required"

    no_terminal = await lango("admin", "create", "--email", "other@example.com")
    assert no_terminal.code == 1 and "--password-stdin" in no_terminal.err


async def test_a_role_granted_and_revoked_from_the_command_line_is_audited_and_signs_out(client: TestClient, lango) -> None:  # type: ignore[no-untyped-def]
    door = await create_user(client.app, email="door@example.com")
    session = await sign_in(client, "door@example.com")
    token = {"Authorization": f"Bearer {session['tokens']['access_token']}"}
    socket = socketio.AsyncClient(reconnection=False)
    closed = asyncio.Event()

    async def on_disconnect(*_: object) -> None:
        closed.set()

    socket.on("disconnect", on_disconnect)
    await socket.connect(
        str(client.make_url("/")), auth={"token": session["tokens"]["access_token"]}, transports=["websocket"], wait_timeout=10
    )

    granted = await lango("users", "grant", "door@example.com", "scanner")
    assert granted.code == 0 and "granted scanner" in granted.out, granted.err
    again = await lango("users", "grant", str(door.id), "scanner")
    assert again.code == 0 and "already has the scanner role: nothing changed" in again.out
    assert (await User.get(door.id)).roles == ["guest", "scanner"]  # type: ignore[union-attr]
    assert (await client.get("/v1/auth/me", headers=token)).status == 200

    revoked = await lango("users", "revoke", "DOOR@example.com", "scanner")
    assert revoked.code == 0 and "signed out everywhere" in revoked.out, revoked.err
    assert (await User.get(door.id)).roles == ["guest"]  # type: ignore[union-attr]
    # The admin API's flow: the live session's access token stops working now, not when it expires.
    assert (await client.get("/v1/auth/me", headers=token)).status == 401
    await asyncio.wait_for(closed.wait(), 10)
    audited = await AuditEvent.find({"user_id": door.id, "kind": {"$in": ["role_granted", "role_removed"]}}).sort("_id").to_list()
    assert [(event.kind, event.actor_id, event.details) for event in audited] == [
        (AuditKind.ROLE_GRANTED, None, {"role": "scanner", "via": "cli"}),
        (AuditKind.ROLE_REMOVED, None, {"role": "scanner", "via": "cli"}),
    ]

    unknown = await lango("users", "revoke", "nobody@example.com", "scanner")
    assert unknown.code == 1 and "no account" in unknown.err
    bad_role = await lango("users", "grant", "door@example.com", "emperor")
    assert bad_role.code == 2 and "invalid choice" in bad_role.err
