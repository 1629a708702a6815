"""The door scanner in Chromium with a fake camera playing real ticket QR codes: answers online, then offline with
the batch synced when the network is back, and how long each answer took."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.browser.camera import write_video
from tests.browser.conftest import SCREENSHOTS, Browsers
from tests.browser.scanner_steps import answer, choose_door, dismiss, open_door, results
from tests.tickets.builders import door_staff, event_on_sale, paid_tickets, scan_body

TIMINGS = SCREENSHOTS.parent / "scanner-timings.json"


def forged(secret: str) -> str:
    """The secret with one character of its signature changed: well-formed, but not signed by the event."""
    at = 120
    return secret[:at] + ("A" if secret[at] != "A" else "B") + secret[at + 1 :]


@pytest.mark.timeout(240)
async def test_door_staff_scan_tickets_online_then_offline_and_the_server_counts_what_the_door_admitted(
    client: TestClient, browsers: Browsers, gateway_url: str, tmp_path: Path
) -> None:
    sale = await event_on_sale(client)
    first, second, third = await paid_tickets(client, sale, 3)
    [(scanner, _)] = await door_staff(client, sale)
    [(_, other_gate)] = await door_staff(client, sale)
    phone = tmp_path / "phone"
    online_video = await asyncio.to_thread(write_video, tmp_path / "online.y4m", [
        (None, 2), (first["secret"], 1.5), (None, 1), (first["secret"], 1.5), (None, 1), (forged(first["secret"]), 1.5), (None, 6),
    ])  # fmt: skip

    # Online: sign in, pick the event and the gate; the camera starts and reads the codes as they come into view.
    page = await browsers.page(f"{gateway_url}/scan/", camera=online_video, profile=phone)
    await choose_door(page, scanner.email or "", "North", sale.event_id)
    await browsers.screenshot(page, "01-event-and-gate")
    await page.click("#setup-submit")

    valid = await answer(page, "green")
    await browsers.screenshot(page, "02-online-valid")
    used = await answer(page, "amber")
    await browsers.screenshot(page, "03-online-already-used")
    invalid = await answer(page, "red")
    await browsers.screenshot(page, "04-online-forged")
    await page.wait_for_selector("#stats[data-admitted='1']")
    await dismiss(page)
    await browsers.screenshot(page, "05-online-counts")
    online_timings = await page.evaluate("window.scanTimings")

    assert "Valid" in valid and "Amani Njoroge" in valid and "Regular" in valid
    assert "Already used" in used and "North" in used
    assert "Invalid ticket" in invalid
    assert (await results(page))[:3] == [("ok", "false"), ("already_redeemed", "false"), ("invalid", "false")]
    assert await page.get_attribute("#viewfinder", "data-decoder") in ("jsQR", "BarcodeDetector")
    await page.context.close()

    # Offline: the phone opens the scanner again with no network at all; it checks tickets with the kit it keeps.
    offline_video = await asyncio.to_thread(write_video, tmp_path / "offline.y4m", [
        (None, 1.5), (second["secret"], 1.5), (None, 1), (second["secret"], 1.5), (None, 1), (third["secret"], 1.5), (None, 6),
    ])  # fmt: skip
    context = await browsers.context(camera=offline_video, profile=phone)
    await context.set_offline(True)
    page = context.pages[0]
    await page.goto(f"{gateway_url}/scan/")
    await page.wait_for_selector("#kit[data-ready='true']")
    await page.wait_for_selector("#network[data-state='offline']")
    # Meanwhile another door lets the third ticket in, online.
    elsewhere = await client.post(f"/v1/events/{sale.event_id}/scans", headers=other_gate, json=scan_body(third["secret"], gate="South"))
    assert (await elsewhere.json())["result"] == "ok"
    await page.click("#camera-start")

    admitted_offline = await answer(page, "green")
    await browsers.screenshot(page, "06-offline-valid")
    refused_offline = await answer(page, "amber")
    await browsers.screenshot(page, "07-offline-repeat-refused")
    await answer(page, "green")
    await page.wait_for_selector("#queued[data-count='2']")
    await dismiss(page)
    await browsers.screenshot(page, "08-offline-queued")
    offline_timings = (await page.evaluate("window.scanTimings"))[:3]

    assert "checked offline" in admitted_offline and "Regular" in admitted_offline
    assert "Already used" in refused_offline and "North" in refused_offline
    assert (await results(page))[:3] == [("ok", "true"), ("already_redeemed", "true"), ("ok", "true")]

    # Back online: the queue goes up as one batch; the ticket let in at both doors is listed for the staff.
    await page.context.set_offline(False)
    await page.wait_for_selector("#queued[data-count='0']", timeout=15_000)
    await page.wait_for_selector("#conflicts:not([hidden])")
    await page.wait_for_selector("#stats[data-admitted='3']")
    await page.wait_for_selector("#network[data-state='online']")
    await dismiss(page)
    await browsers.screenshot(page, "09-synced-with-conflict")
    stats: dict[str, Any] = await (await client.get(f"/v1/events/{sale.event_id}/stats", headers=other_gate)).json()

    assert "South" in await page.inner_text("#conflict-list")
    assert stats["admitted"] == 3 and stats["by_gate"] == {"North": 2, "South": 1}
    _record(online_timings, offline_timings)


def _record(online: list[dict[str, Any]], offline: list[dict[str, Any]]) -> None:
    """Frame to answer on screen, per scan, for docs/performance.md."""
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS.write_text(json.dumps({"online": online, "offline": offline}, indent=1))
    assert all(t["offline"] for t in offline) and not any(t["offline"] for t in online)
    # The targets (300 ms online, 100 ms offline) are recorded, not asserted: the machine is shared. This bound
    # catches a scanner that stalls.
    assert all(t["ms"] < 2000 for t in online + offline), TIMINGS.read_text()


@pytest.mark.timeout(180)
async def test_a_browser_with_a_barcode_detector_reads_codes_with_it(
    client: TestClient, browsers: Browsers, gateway_url: str
) -> None:
    sale = await event_on_sale(client)
    [ticket] = await paid_tickets(client, sale, 1)
    [(scanner, _)] = await door_staff(client, sale)
    context = await browsers.context()
    # Android Chrome's detector, standing in: it sees the ticket in every frame.
    await context.add_init_script("""
        window.BarcodeDetector = class {
            static async getSupportedFormats() { return ["qr_code", "ean_13"]; }
            constructor({ formats }) { this.formats = formats; }
            async detect(source) { return source.videoWidth ? [{ rawValue: %s, format: "qr_code" }] : []; }
        };
    """ % json.dumps(ticket["secret"]))  # fmt: skip
    page = await context.new_page()
    await page.goto(f"{gateway_url}/scan/")
    await open_door(page, scanner.email or "")

    assert "Amani Njoroge" in await answer(page, "green")
    assert await page.get_attribute("#viewfinder", "data-decoder") == "BarcodeDetector"
    assert await page.evaluate("typeof window.jsQR") == "undefined"
    # Seen in every frame since, it was read once: it has not left the view.
    assert await results(page) == [("ok", "false")]
