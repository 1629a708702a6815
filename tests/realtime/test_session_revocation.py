"""A session that ends closes its sockets on every node within a second, and its access token opens no socket again."""

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp.test_utils import TestClient

from gateway.security.tokens import TokenService
from tests.factories import DEFAULT_PASSWORD, create_user
from tests.realtime.conftest import Cluster, GatewayNode, RecordingClient

# The gateways run as sibling processes that saturate both cores while they start; the loop-blocking
# guard measures wall time, so it would flag this process for being descheduled, not for blocking.
pytestmark = pytest.mark.allows_blocking

RECOVERY = "session.recovery"
CLOSED_WITHIN_S = 1.0


async def _call(node: GatewayNode, method: str, path: str, token: str | None = None, **body: Any) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, node.url + path, json=body or None, headers=headers) as answer,
    ):
        return answer.status, await answer.json(content_type=None) if answer.status != 204 else None


async def _sign_in(node: GatewayNode, email: str) -> dict[str, Any]:
    status, answer = await _call(node, "POST", "/v1/auth/login", email=email, password=DEFAULT_PASSWORD)
    assert status == 200 and answer["status"] == "signed_in", answer
    return answer["tokens"]


async def _socket(clients: Callable[[], RecordingClient], node: GatewayNode, access_token: str) -> RecordingClient:
    client = clients()
    await client.connect(node, {"token": access_token})
    await client.wait_for(lambda c: bool(c.of_type(RECOVERY)))
    return client


async def _refused(clients: Callable[[], RecordingClient], node: GatewayNode, access_token: str) -> str:
    client = clients()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(node, {"token": access_token})
    return str(client.connect_errors[0]["message"])


async def _all_closed(sockets: list[RecordingClient]) -> None:
    """Every socket is told its session ended and is disconnected, within the second."""
    await asyncio.wait_for(
        asyncio.gather(*(socket.wait_for(lambda c: c.disconnects == 1, CLOSED_WITHIN_S) for socket in sockets)),
        CLOSED_WITHIN_S,
    )
    for socket in sockets:
        assert socket.of_type("auth.revoked") == [{"code": "session_revoked"}]


async def test_logout_closes_the_sessions_sockets_on_every_node_and_its_token_opens_no_other(
    cluster: Cluster, client: TestClient, clients: Callable[[], RecordingClient]
) -> None:
    node_a, node_b = await cluster.start_node(), await cluster.start_node()
    await create_user(client.app, email="amani@example.com")
    tokens = await _sign_in(node_a, "amani@example.com")
    other_device = await _sign_in(node_a, "amani@example.com")
    sockets = [
        await _socket(clients, node_a, tokens["access_token"]),
        await _socket(clients, node_b, tokens["access_token"]),
    ]
    bystander = await _socket(clients, node_b, other_device["access_token"])

    status, _ = await _call(node_a, "POST", "/v1/auth/logout", tokens["access_token"])

    assert status == 204
    await _all_closed(sockets)
    assert await _refused(clients, node_a, tokens["access_token"]) == "session_revoked"
    assert await _refused(clients, node_b, tokens["access_token"]) == "session_revoked"
    assert bystander.disconnects == 0 and bystander.sio.connected


async def test_a_password_change_a_reused_refresh_token_and_a_removed_role_close_sockets_on_every_node(
    cluster: Cluster, client: TestClient, tokens: TokenService, clients: Callable[[], RecordingClient]
) -> None:
    node_a, node_b = await cluster.start_node(), await cluster.start_node()
    admin = await create_user(client.app, email="admin@example.com", roles=("admin",))
    admin_token = tokens.issue_access(str(admin.id), ["admin"], "admin-session")
    await create_user(client.app, email="baraka@example.com")
    await create_user(client.app, email="chiku@example.com")
    scanner = await create_user(client.app, email="doria@example.com", roles=("guest", "scanner"))

    # A password change signs out the account's other sessions, not the one that changed it.
    here, elsewhere = await _sign_in(node_a, "baraka@example.com"), await _sign_in(node_a, "baraka@example.com")
    changed_elsewhere = [await _socket(clients, node, elsewhere["access_token"]) for node in (node_a, node_b)]
    changing = await _socket(clients, node_b, here["access_token"])
    status, _ = await _call(node_b, "POST", "/v1/auth/password/change", here["access_token"],
                            current_password=DEFAULT_PASSWORD, new_password="a brand new passphrase")  # fmt: skip
    assert status == 204
    await _all_closed(changed_elsewhere)
    assert await _refused(clients, node_a, elsewhere["access_token"]) == "session_revoked"
    assert changing.disconnects == 0 and changing.sio.connected

    # A refresh token presented twice revokes its session: someone else holds a copy.
    first = await _sign_in(node_a, "chiku@example.com")
    stolen = [await _socket(clients, node, first["access_token"]) for node in (node_a, node_b)]
    status, _ = await _call(node_b, "POST", "/v1/auth/refresh", refresh_token=first["refresh_token"])
    assert status == 200
    status, replay = await _call(node_b, "POST", "/v1/auth/refresh", refresh_token=first["refresh_token"])
    assert status == 401 and replay["type"].endswith("refresh-token-reused")
    await _all_closed(stolen)
    assert await _refused(clients, node_b, first["access_token"]) == "session_revoked"

    # Removing a role signs the account out everywhere: the door scanner's sockets go with it.
    door = await _sign_in(node_b, "doria@example.com")
    scanning = [await _socket(clients, node, door["access_token"]) for node in (node_a, node_b)]
    status, _ = await _call(node_a, "DELETE", f"/v1/admin/users/{scanner.id}/roles/scanner", admin_token)
    assert status == 200
    await _all_closed(scanning)
    assert await _refused(clients, node_a, door["access_token"]) == "session_revoked"


async def test_an_admins_lock_closes_the_accounts_sockets_on_every_node_and_refuses_its_sign_in(
    cluster: Cluster, client: TestClient, tokens: TokenService, clients: Callable[[], RecordingClient]
) -> None:
    node_a, node_b = await cluster.start_node(), await cluster.start_node()
    admin = await create_user(client.app, email="admin@example.com", roles=("admin",))
    admin_token = tokens.issue_access(str(admin.id), ["admin"], "admin-session")
    locked = await create_user(client.app, email="eshe@example.com")
    phone, laptop = await _sign_in(node_a, "eshe@example.com"), await _sign_in(node_b, "eshe@example.com")
    sockets = [
        await _socket(clients, node_a, phone["access_token"]),
        await _socket(clients, node_b, laptop["access_token"]),
    ]

    status, _ = await _call(
        node_b, "POST", f"/v1/admin/users/{locked.id}/lock", admin_token, reason="Card testing from this account"
    )

    assert status == 200
    await _all_closed(sockets)
    assert await _refused(clients, node_a, laptop["access_token"]) == "session_revoked"
    status, refused = await _call(node_a, "POST", "/v1/auth/login", email="eshe@example.com", password=DEFAULT_PASSWORD)
    assert status == 403 and refused["type"].endswith("account-suspended")
