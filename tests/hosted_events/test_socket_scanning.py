"""Scanning over Socket.IO against a served gateway: one `ok` among 20 sockets, acks, and live door statistics."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient

from tests.accounts.helpers import sign_in
from tests.factories import access_token_for, auth_header, create_user
from tests.realtime.conftest import eventually
from tests.realtime.test_event_catalogue import documented_request_codes
from tests.tickets.builders import door_staff, event_on_sale, paid_tickets, scan_body


class DoorSocket:
    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.stats: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sio.on("checkin.stats", self._stats)

    async def _stats(self, envelope: dict[str, Any]) -> None:
        await self.stats.put(envelope["data"])


@pytest.fixture
async def sockets() -> AsyncIterator[list[DoorSocket]]:
    opened: list[DoorSocket] = []
    yield opened
    await asyncio.gather(*(door.sio.disconnect() for door in opened if door.sio.connected))


async def _connect(client: TestClient, token: str, sockets: list[DoorSocket]) -> DoorSocket:
    door = DoorSocket()
    sockets.append(door)
    await door.sio.connect(str(client.make_url("/")), auth={"token": token}, transports=["websocket"], wait_timeout=10)
    return door


async def test_20_scanner_sockets_scanning_one_ticket_at_once_get_one_ok(client: TestClient, sockets: list[DoorSocket]) -> None:
    sale = await event_on_sale(client)
    [ticket] = await paid_tickets(client, sale, 1)
    staff = await door_staff(client, sale, 20)
    doors = [await _connect(client, access_token_for(client.app, user), sockets) for user, _ in staff]
    room = f"event:{sale.event_id}:scanners"
    joined = await asyncio.gather(*(door.sio.call("rooms.join", {"room": room}, timeout=10) for door in doors))

    acks = await asyncio.gather(*(
        door.sio.call("ticket.scan", scan_body(ticket["secret"], gate=f"gate-{n}"), timeout=10)
        for n, door in enumerate(doors)
    ))  # fmt: skip

    assert all(answer["ok"] for answer in joined)
    results = [ack["result"] for ack in acks]
    assert all(ack["ok"] for ack in acks) and results.count("ok") == 1 and results.count("already_redeemed") == 19
    admitted = next(ack for ack in acks if ack["result"] == "ok")
    assert all(ack["holder_name"] == "Amani Njoroge" and ack["ticket_type"] == "Regular" for ack in acks)
    stats = await asyncio.wait_for(doors[0].stats.get(), 10)
    assert stats["admitted"] == 1 and stats["inside"] == 1 and stats["by_gate"] == {admitted["gate"]: 1}
    assert stats["by_ticket_type"] == {sale.ticket_type_id: 1} and stats["event_id"] == sale.event_id


async def test_a_socket_scan_is_refused_for_staff_of_another_event(client: TestClient, sockets: list[DoorSocket]) -> None:
    sale, other = await event_on_sale(client), await event_on_sale(client)
    [ticket] = await paid_tickets(client, sale, 1)
    [(outsider, _)] = await door_staff(client, other)
    door = await _connect(client, access_token_for(client.app, outsider), sockets)

    joined = await door.sio.call("rooms.join", {"room": f"event:{sale.event_id}:scanners"}, timeout=10)
    scanned = await door.sio.call("ticket.scan", {**scan_body(ticket["secret"]), "event_id": sale.event_id}, timeout=10)

    assert joined["ok"] is False and joined["error"]["code"] == "forbidden"
    assert scanned == {"ok": False, "error": {"code": "not_event_scanner",
                                              "message": "ask the event's host to add you as door staff"}}  # fmt: skip


async def test_a_door_scanner_whose_role_is_removed_is_cut_off_and_scans_no_more(
    client: TestClient, sockets: list[DoorSocket]
) -> None:
    sale = await event_on_sale(client)
    [ticket] = await paid_tickets(client, sale, 1)
    [(scanner, _)] = await door_staff(client, sale)
    admin = await create_user(client.app, roles=("admin",))
    signed_in = await sign_in(client, scanner.email)  # type: ignore[arg-type]
    door = await _connect(client, signed_in["tokens"]["access_token"], sockets)
    revoked: list[object] = []
    door.sio.on("auth.revoked", revoked.append)
    assert (await door.sio.call("rooms.join", {"room": f"event:{sale.event_id}:scanners"}, timeout=10))["ok"]

    removed = await client.delete(f"/v1/admin/users/{scanner.id}/roles/scanner", headers=auth_header(access_token_for(client.app, admin)))

    assert removed.status == 200
    await eventually(lambda: not door.sio.connected, 5, "the scanner's socket to close")
    assert revoked == [{"code": "session_revoked"}]
    with pytest.raises(socketio.exceptions.ConnectionError):
        await _connect(client, signed_in["tokens"]["access_token"], sockets)
    again = await _connect(client, (await sign_in(client, scanner.email))["tokens"]["access_token"], sockets)  # type: ignore[arg-type]
    scanned = await again.sio.call("ticket.scan", {**scan_body(ticket["secret"]), "event_id": sale.event_id}, timeout=10)
    assert scanned["ok"] is False and scanned["error"]["code"] == "not_event_scanner"


async def test_every_code_a_socket_scan_is_refused_with_is_documented(client: TestClient, sockets: list[DoorSocket]) -> None:
    sale = await event_on_sale(client)
    [ticket] = await paid_tickets(client, sale, 1)
    [(scanner, _)] = await door_staff(client, sale)
    [(outsider, _)] = await door_staff(client, await event_on_sale(client))
    door = await _connect(client, access_token_for(client.app, scanner), sockets)
    stranger = await _connect(client, access_token_for(client.app, outsider), sockets)

    refusals = [
        await door.sio.call("ticket.scan", scan_body(ticket["secret"]), timeout=10),
        await door.sio.call("ticket.scan", {**scan_body(ticket["secret"]), "event_id": "0" * 24}, timeout=10),
        await stranger.sio.call("ticket.scan", {**scan_body(ticket["secret"]), "event_id": sale.event_id}, timeout=10),
        await door.sio.call("ticket.scan", {**scan_body(ticket["secret"]), "gate": "North/Gate"}, timeout=10),
    ]

    codes = [refusal["error"]["code"] for refusal in refusals]
    assert codes == ["not_found", "not_found", "not_event_scanner", "invalid_request"]
    assert set(codes) <= documented_request_codes()
