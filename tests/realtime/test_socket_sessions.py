"""A socket follows the session of its token: a refresh adopts the new token's roles, never a revoked session's, and a
revocation a node missed while it was cut off from Redis still closes the socket once it is back."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import socketio
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from gateway.security.revocations import revoked_session_key
from gateway.state import SERVICES
from tests.accounts.helpers import bearer, sign_in
from tests.factories import create_user
from tests.realtime.conftest import eventually


@pytest.fixture
async def phone(client: TestClient) -> AsyncIterator[socketio.AsyncClient]:
    sio = socketio.AsyncClient(reconnection=False)
    yield sio
    if sio.connected:
        await sio.disconnect()


async def _connect(client: TestClient, sio: socketio.AsyncClient, token: str) -> None:
    """Connected, and admitted by its opening: its room's recovery notice has arrived."""
    recovered = asyncio.Event()
    sio.on("session.recovery", lambda _: recovered.set())
    await sio.connect(str(client.make_url("/")), auth={"token": token}, transports=["websocket"], wait_timeout=10)
    await asyncio.wait_for(recovered.wait(), 10)


async def test_a_refresh_with_a_token_of_a_revoked_session_is_refused(client: TestClient, phone: socketio.AsyncClient) -> None:
    await create_user(client.app, email="neema@example.com")
    here, elsewhere = await sign_in(client, "neema@example.com"), await sign_in(client, "neema@example.com")
    await _connect(client, phone, here["tokens"]["access_token"])
    assert (await client.post("/v1/auth/logout", headers=bearer(elsewhere))).status == 204

    refused = await phone.call("auth.refresh", {"token": elsewhere["tokens"]["access_token"]}, timeout=5)
    fresh = await phone.call("auth.refresh", {"token": here["tokens"]["access_token"]}, timeout=5)

    assert refused == {"ok": False, "error": {"code": "session_revoked", "message": "this session has been signed out: sign in again"}}
    assert fresh["ok"] is True and phone.connected


async def test_a_refresh_adopts_the_roles_of_the_new_token(client: TestClient, phone: socketio.AsyncClient) -> None:
    user = await create_user(client.app, email="tumaini@example.com")
    tokens = client.app[SERVICES].tokens
    await _connect(client, phone, tokens.issue_access(str(user.id), ["guest"], "s-tumaini"))
    before = await phone.call("rooms.join", {"room": "event:e1:scanners"}, timeout=5)

    refreshed = await phone.call("auth.refresh", {"token": tokens.issue_access(str(user.id), ["admin"], "s-tumaini")}, timeout=5)
    after = await phone.call("rooms.join", {"room": "event:e1:scanners"}, timeout=5)

    assert before["ok"] is False and before["error"]["code"] == "forbidden"
    assert refreshed["ok"] is True
    assert after["ok"] is True


async def test_a_revocation_missed_while_redis_was_out_of_reach_closes_the_socket_on_resubscribing(
    client: TestClient, redis: Redis, phone: socketio.AsyncClient
) -> None:
    user = await create_user(client.app)
    await _connect(client, phone, client.app[SERVICES].tokens.issue_access(str(user.id), ["guest"], "s-missed"))
    revoked: list[object] = []
    phone.on("auth.revoked", revoked.append)
    # Marked as a revocation is, but its word to the nodes never arrived (the node was not listening).
    await redis.set(revoked_session_key(client.app[SERVICES].settings.redis, "s-missed"), b"1", ex=timedelta(minutes=16))

    subscriber = client.app[SERVICES].hub.subscriber
    await subscriber._listeners[0].connection.disconnect(nowait=True)

    await eventually(lambda: not phone.connected, 10, "the socket of the revoked session to close")
    assert revoked == [{"code": "session_revoked"}]
