"""Socket auth and client requests: refusals the client can act on, acks that always answer."""

from collections.abc import Callable
from datetime import timedelta

import pytest
import socketio

from gateway.crypto.signing_keys import parse_key_ring
from gateway.security.tokens import TokenService
from tests.realtime.conftest import Cluster, RecordingClient, issue

# The gateways run as sibling processes that saturate both cores while they start; the loop-blocking
# guard measures wall time, so it would flag this process for being descheduled, not for blocking.
pytestmark = pytest.mark.allows_blocking


def _tokens_lasting(signing_keys: str, seconds: float) -> TokenService:
    return TokenService(
        parse_key_ring(signing_keys),
        issuer="lango",
        access_ttl=timedelta(seconds=seconds),
        challenge_ttl=timedelta(minutes=5),
    )


async def test_connections_without_a_valid_token_are_refused_with_a_code(
    cluster: Cluster, signing_keys: str, clients: Callable[[], RecordingClient]
) -> None:
    node = await cluster.start_node()
    # Expired beyond the verifier's clock-skew allowance.
    expired = _tokens_lasting(signing_keys, -60).issue_access("kito", ["guest"], "s1")
    for auth, code in (
        ({"token": expired}, "token_expired"),
        ({"token": "not-a-jwt"}, "invalid_token"),
        ({}, "missing_token"),
    ):
        client = clients()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(node, auth)
        assert client.connect_errors == [{"message": code, "data": {"code": code, "message": client.connect_errors[0]["data"]["message"]}}]


async def test_a_socket_is_disconnected_when_its_token_expires_unless_refreshed(
    cluster: Cluster, signing_keys: str, tokens: TokenService, clients: Callable[[], RecordingClient]
) -> None:
    node = await cluster.start_node()
    # Both tokens expire at the same moment, so by the time the lapsing socket is cut off, the refreshed
    # socket's first token has lapsed too; three seconds leave room for a loaded machine to connect both.
    short = _tokens_lasting(signing_keys, 3)
    lapsing_token, refreshed_token = short.issue_access("lulu", ["guest"], "s1"), short.issue_access("mosi", ["guest"], "s2")
    lapsing, refreshed = clients(), clients()
    await lapsing.connect(node, {"token": lapsing_token})
    await refreshed.connect(node, {"token": refreshed_token})

    answer = await refreshed.sio.call("auth.refresh", {"token": issue(tokens, "mosi")}, timeout=5)
    await lapsing.wait_for(lambda c: c.disconnects == 1)

    assert answer["ok"] is True and answer["expires_at"]
    assert lapsing.of_type("auth.expired") == [{"code": "token_expired"}]
    assert refreshed.disconnects == 0 and refreshed.of_type("auth.expired") == []
    foreign = await refreshed.sio.call("auth.refresh", {"token": issue(tokens, "someone-else")}, timeout=5)
    assert foreign == {"ok": False, "error": {"code": "invalid_token", "message": "the new token belongs to another user"}}


async def test_every_request_is_acknowledged_even_when_it_fails(
    cluster: Cluster, tokens: TokenService, clients: Callable[[], RecordingClient]
) -> None:
    node = await cluster.start_node()
    guest, scanner = clients(), clients()
    await guest.connect(node, {"token": issue(tokens, "nuru")})
    await scanner.connect(node, {"token": issue(tokens, "omari", ("admin",))})

    unknown = await guest.sio.call("tickets.teleport", {}, timeout=5)
    malformed = await guest.sio.call("rooms.join", {"room": 42, "extra": True}, timeout=5)
    bad_room = await guest.sio.call("rooms.join", {"room": "kitchen"}, timeout=5)
    forbidden = await guest.sio.call("rooms.join", {"room": "event:e1:scanners"}, timeout=5)
    joined = await scanner.sio.call("rooms.join", {"room": "event:e1:scanners"}, timeout=5)
    left = await scanner.sio.call("rooms.leave", {"room": "event:e1:scanners"}, timeout=5)

    assert unknown["ok"] is False and unknown["error"]["code"] == "unknown_event"
    assert malformed["ok"] is False and malformed["error"]["code"] == "invalid_request"
    assert bad_room["ok"] is False and bad_room["error"]["code"] == "invalid_room"
    assert forbidden["ok"] is False and forbidden["error"]["code"] == "forbidden"
    assert joined == {"ok": True, "room": "event:e1:scanners", "recovered": False, "replayed": 0, "last_event_id": 0}
    assert left == {"ok": True, "room": "event:e1:scanners"}
