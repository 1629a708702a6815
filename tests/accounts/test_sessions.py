"""Refresh-token rotation with reuse detection, sessions only their owner can see or revoke, and a password reset that
ends every session, its sockets included."""

import asyncio
from collections.abc import AsyncIterator

import pytest
import socketio
from aiohttp.test_utils import TestClient

from documents.audit import AuditEvent, AuditKind
from documents.session import Session
from tests.accounts.helpers import bearer, code_sent_to, problem_type, sign_in
from tests.factories import access_token_for, auth_header, create_user
from tests.realtime.conftest import RecordingClient

CLOSED_WITHIN_S = 1.0


async def test_concurrent_refreshes_with_one_token_let_one_through_and_revoke_the_family(client: TestClient) -> None:
    user = await create_user(client.app, email="amani@example.com")
    tokens = (await sign_in(client, "amani@example.com"))["tokens"]

    answers = await asyncio.gather(
        *(client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}) for _ in range(2))
    )
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [200, 401]
    (refused,) = [answer for answer in answers if answer.status == 401]
    assert await problem_type(refused) == "refresh-token-reused"

    (winner,) = [answer for answer in answers if answer.status == 200]
    rotated = await winner.json()
    session = await Session.get(rotated["session_id"])
    assert session is not None and session.revoked_because == "refresh_token_reused"
    # The whole family is gone: the token the winner got and its access token no longer work.
    again = await client.post("/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert again.status == 401
    assert (await client.get("/v1/auth/me", headers=auth_header(rotated["access_token"]))).status == 401
    reuse_events = await AuditEvent.find({"kind": AuditKind.REFRESH_TOKEN_REUSED.value}).to_list()
    assert [event.user_id for event in reuse_events] == [user.id]


async def test_replaying_an_old_refresh_token_revokes_the_session(client: TestClient) -> None:
    await create_user(client.app, email="baraka@example.com")
    first = (await sign_in(client, "baraka@example.com"))["tokens"]
    second = await (await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})).json()
    replay = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status == 401 and await problem_type(replay) == "refresh-token-reused"
    assert (await client.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})).status == 401


async def test_sessions_are_listed_and_revoked_only_by_their_owner(client: TestClient) -> None:
    await create_user(client.app, email="chiku@example.com")
    await create_user(client.app, email="dalia@example.com")
    chiku_phone = await sign_in(client, "chiku@example.com", device="Chiku's phone")
    chiku_laptop = await sign_in(client, "chiku@example.com", device="Chiku's laptop")
    dalia = await sign_in(client, "dalia@example.com")

    listed = await (await client.get("/v1/auth/sessions", headers=bearer(chiku_laptop))).json()
    assert {item["device"] for item in listed["items"]} == {"Chiku's phone", "Chiku's laptop"}
    assert [item["current"] for item in listed["items"] if item["device"] == "Chiku's laptop"] == [True]
    dalia_sees = await (await client.get("/v1/auth/sessions", headers=bearer(dalia))).json()
    assert [item["id"] for item in dalia_sees["items"]] == [dalia["tokens"]["session_id"]]

    phone_session = chiku_phone["tokens"]["session_id"]
    stolen = await client.delete(f"/v1/auth/sessions/{phone_session}", headers=bearer(dalia))
    assert stolen.status == 404
    assert (await client.get("/v1/auth/me", headers=bearer(chiku_phone))).status == 200

    revoked = await client.delete(f"/v1/auth/sessions/{phone_session}", headers=bearer(chiku_laptop))
    assert revoked.status == 204
    assert (await client.get("/v1/auth/me", headers=bearer(chiku_phone))).status == 401
    assert (await client.delete("/v1/auth/sessions/not-an-id", headers=bearer(chiku_laptop))).status == 404


async def test_password_change_signs_out_every_other_session(client: TestClient) -> None:
    await create_user(client.app, email="eshe@example.com")
    here = await sign_in(client, "eshe@example.com")
    elsewhere = await sign_in(client, "eshe@example.com")
    wrong = await client.post(
        "/v1/auth/password/change",
        json={"current_password": "not my password", "new_password": "a brand new passphrase"},
        headers=bearer(here),
    )
    assert wrong.status == 403 and await problem_type(wrong) == "wrong-password"
    changed = await client.post(
        "/v1/auth/password/change",
        json={"current_password": "correct horse battery staple", "new_password": "a brand new passphrase"},
        headers=bearer(here),
    )
    assert changed.status == 204
    assert (await client.get("/v1/auth/me", headers=bearer(here))).status == 200
    assert (await client.get("/v1/auth/me", headers=bearer(elsewhere))).status == 401
    assert (await client.post("/v1/auth/refresh", json={"refresh_token": elsewhere["tokens"]["refresh_token"]})).status == 401
    assert (await sign_in(client, "eshe@example.com", "a brand new passphrase"))["status"] == "signed_in"


@pytest.fixture
async def sockets() -> AsyncIterator[list[RecordingClient]]:
    opened: list[RecordingClient] = []
    yield opened
    for socket in opened:
        await socket.close()


async def _socket(client: TestClient, sockets: list[RecordingClient], access_token: str) -> RecordingClient:
    socket = RecordingClient()
    sockets.append(socket)
    await socket.sio.connect(str(client.make_url("/")), auth={"token": access_token}, transports=["websocket"], wait_timeout=10)
    return socket


async def test_a_password_reset_closes_the_accounts_sockets_and_their_tokens_open_no_other(
    client: TestClient, sockets: list[RecordingClient]
) -> None:
    await create_user(client.app, email="faraji@example.com")
    phone, laptop = await sign_in(client, "faraji@example.com"), await sign_in(client, "faraji@example.com")
    open_sockets = [await _socket(client, sockets, signed_in["tokens"]["access_token"]) for signed_in in (phone, laptop)]

    assert (await client.post("/v1/auth/password/reset", json={"email": "faraji@example.com"})).status == 202
    code = await code_sent_to(client, "faraji@example.com")
    reset = await client.post(
        "/v1/auth/password/reset/confirm", json={"email": "faraji@example.com", "code": code, "new_password": "kahawa chungu asubuhi"}
    )

    assert reset.status == 200, await reset.text()
    for socket in open_sockets:
        await socket.wait_for(lambda s: s.disconnects == 1, CLOSED_WITHIN_S)
        assert socket.of_type("auth.revoked") == [{"code": "session_revoked"}]
    with pytest.raises(socketio.exceptions.ConnectionError):
        await _socket(client, sockets, phone["tokens"]["access_token"])
    assert sockets[-1].connect_errors[0]["message"] == "session_revoked"


async def test_routes_declare_who_may_call_them(client: TestClient) -> None:
    guest = await create_user(client.app)
    admin = await create_user(client.app, roles=("guest", "admin"))
    assert (await client.get("/v1/auth/sessions")).status == 401
    forbidden = await client.get("/v1/admin/audit", headers=auth_header(access_token_for(client.app, guest)))
    assert forbidden.status == 403
    allowed = await client.get("/v1/admin/audit", headers=auth_header(access_token_for(client.app, admin)))
    assert allowed.status == 200
