"""What the scanner decides on the phone with no network, run in Chromium on real secrets and the server's kit:
the same verdicts the server gives, and one admission per ticket on a phone however fast the scans come."""

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import Page

from tests.browser.conftest import Browsers
from tests.browser.test_scanner_door import forged
from tests.tickets.builders import door_staff, event_on_sale, paid_tickets, scan_body

pytestmark = pytest.mark.timeout(180)

JUDGE = """async ([kit, secret, moment]) => {
    const { judgeOffline } = await import("/scan/js/tickets.js");
    return (await judgeOffline(kit, secret, moment ?? Date.now())).result;
}"""


async def judge(page: Page, kit: dict, secret: str, moment_ms: float | None = None) -> str:  # type: ignore[type-arg]
    return str(await page.evaluate(JUDGE, [kit, secret, moment_ms]))


async def test_the_phone_judges_secrets_as_the_server_does(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    sale, other = await event_on_sale(client), await event_on_sale(client)
    valid, reissued, revoked = await paid_tickets(client, sale, 3)
    [foreign] = await paid_tickets(client, other, 1)
    [(_, staff)] = await door_staff(client, sale)
    reissuing = await client.post(f"/v1/tickets/{reissued['id']}/reissue", headers=sale.host_headers)
    assert reissuing.status == 200, await reissuing.text()
    revoking = await client.post(f"/v1/tickets/{revoked['id']}/revoke", headers=sale.host_headers)
    assert revoking.status == 200, await revoking.text()
    kit = await (await client.get(f"/v1/events/{sale.event_id}/scanner-kit", headers=staff)).json()
    page = await browsers.page(f"{gateway_url}/scan/")

    assert await judge(page, kit, valid["secret"]) == "ok"
    assert await judge(page, kit, forged(valid["secret"])) == "invalid"
    assert await judge(page, kit, "not a ticket") == "invalid"
    assert await judge(page, kit, foreign["secret"]) == "wrong_event"
    assert await judge(page, kit, revoked["secret"]) == "revoked"
    assert await judge(page, kit, reissued["secret"]) == "revoked"
    assert await judge(page, kit, (await reissuing.json())["secret"]) == "ok"
    assert await judge(page, kit, valid["secret"], 0) == "not_valid_now"
    for secret in (valid["secret"], revoked["secret"], reissued["secret"], foreign["secret"]):
        server = await client.post(f"/v1/events/{sale.event_id}/scans", headers=staff, json=scan_body(secret))
        assert (await server.json())["result"] == await judge(page, kit, secret)


async def test_one_phone_lets_a_ticket_in_once_however_fast_it_is_scanned(browsers: Browsers, gateway_url: str) -> None:
    page = await browsers.page(f"{gateway_url}/scan/")

    earlier = await page.evaluate("""async () => {
        const store = await import("/scan/js/store.js");
        const scan = (n) => ({ secret: "s", type: "entry", gate: "North", nonce: `nonce${n}xyz`, scanned_at: new Date().toISOString() });
        return Promise.all([1, 2, 3, 4, 5].map((n) => store.admitOffline("event", "ticket", scan(n))));
    }""")
    queued = await page.evaluate("import('/scan/js/store.js').then((store) => store.queuedFor('event'))")

    assert sum(found is None for found in earlier) == 1
    assert len(queued) == 1
