"""Door statistics from two gateway nodes: whatever node counted last, every client's last push is the final count."""

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.factories import access_token_for, auth_header
from tests.realtime.conftest import Cluster, GatewayNode, RecordingClient, eventually
from tests.tickets.builders import door_staff, event_on_sale, paid_tickets, scan_body

# The gateways run as sibling processes that saturate both cores while they start; the loop-blocking
# guard measures wall time, so it would flag this process for being descheduled, not for blocking.
pytestmark = pytest.mark.allows_blocking

TICKETS = 40
STATS = "checkin.stats"


@pytest.fixture
def app(cluster_settings: Settings) -> web.Application:
    """The test's own gateway builds the event through the real routes, on the cluster's database, Redis and keys."""
    return create_app(cluster_settings)


async def _scan_everything(nodes: list[GatewayNode], event_id: str, staff: list[dict[str, str]], bodies: list[dict[str, Any]]) -> None:
    """Every scan at once, the n-th through node n mod 2 by door staff n mod 2."""
    async with aiohttp.ClientSession() as http:

        async def scan(n: int, body: dict[str, Any]) -> None:
            url = f"{nodes[n % 2].url}/v1/events/{event_id}/scans"
            async with http.post(url, json=body, headers=staff[n % 2]) as answer:
                assert answer.status == 200, await answer.text()

        await asyncio.gather(*(scan(n, body) for n, body in enumerate(bodies)))


async def _final_counts(node: GatewayNode, event_id: str, headers: dict[str, str]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{node.url}/v1/events/{event_id}/stats", headers=headers) as answer:
        assert answer.status == 200, await answer.text()
        return dict(await answer.json())


@pytest.mark.timeout(180)
async def test_the_last_checkin_stats_push_is_the_final_count_whichever_node_counted_last(
    client: TestClient, cluster: Cluster, clients: Callable[[], RecordingClient]
) -> None:
    sale = await event_on_sale(client, quantity=TICKETS, reentry_allowed=True)
    tickets = await paid_tickets(client, sale, TICKETS)
    staff = [headers for _, headers in await door_staff(client, sale, 2)]
    nodes = [await cluster.start_node(), await cluster.start_node()]
    room = f"event:{sale.event_id}:scanners"
    watchers = []
    for node in nodes:
        door, host = clients(), clients()
        await door.connect(node, {"token": staff[0]["Authorization"].removeprefix("Bearer ")})
        await host.connect(node, {"token": access_token_for(client.app, sale.host)})
        assert (await door.sio.call("rooms.join", {"room": room}, timeout=10))["ok"]
        watchers += [door, host]

    # Three bursts (everyone in, everyone out, everyone back in), each answered by both nodes at once.
    for direction in ("entry", "exit", "entry"):
        await _scan_everything(nodes, sale.event_id, staff, [scan_body(ticket["secret"], direction=direction) for ticket in tickets])
        final = await _final_counts(nodes[0], sale.event_id, auth_header(access_token_for(client.app, sale.host)))

        def settled(watcher: RecordingClient, final: dict[str, Any] = final) -> bool:
            pushes = [envelope["data"] for envelope in watcher.of_type(STATS)]
            return bool(pushes) and {**pushes[-1], "event_id": None} == {**final, "event_id": None}

        for watcher in watchers:
            await eventually(lambda watcher=watcher: settled(watcher), 20, f"the last push to equal {final}")
        pushes = [envelope["data"] for watcher in watchers for envelope in watcher.of_type(STATS)]
        assert max(push["version"] for push in pushes) == final["version"]
