"""Door staff as the host changes them: someone taken off an event's staff is refused at the next scan."""

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.tickets.builders import door_staff, event_on_sale, paid_tickets, scan_body


@pytest.fixture
def app(settings: Settings) -> web.Application:
    # Far longer than the test: only the removal itself can make the gateway forget who may scan.
    tickets = settings.tickets.model_copy(update={"scan_context_ttl_s": 60.0})
    return create_app(settings.model_copy(update={"tickets": tickets}))


async def test_a_scanner_the_host_removes_is_refused_at_the_next_scan(client: TestClient) -> None:
    sale = await event_on_sale(client)
    first, second = await paid_tickets(client, sale, 2)
    [(scanner, headers)] = await door_staff(client, sale)
    before = await client.post(f"/v1/events/{sale.event_id}/scans", headers=headers, json=scan_body(first["secret"]))

    removed = await client.delete(f"/v1/events/{sale.event_id}/scanners/{scanner.id}", headers=sale.host_headers)
    after = await client.post(f"/v1/events/{sale.event_id}/scans", headers=headers, json=scan_body(second["secret"]))

    assert before.status == 200 and (await before.json())["result"] == "ok"
    assert removed.status == 200 and str(scanner.id) not in (await removed.json())["scanner_ids"]
    assert after.status == 403 and (await after.json())["type"] == "urn:lango:problem:not-event-scanner"
