"""Offline scans uploaded in a batch: applied in scanned_at order, idempotent, conflicts reported."""

from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient

from tests.tickets.builders import door_pass, door_staff, event_on_sale, paid_tickets, scan_body


async def test_a_batch_reports_a_ticket_admitted_at_two_gates_and_replays_identically(client: TestClient) -> None:
    sale = await event_on_sale(client)
    twice, once = await paid_tickets(client, sale, 2)
    [(_, north), (_, south)] = await door_staff(client, sale, 2)
    now = datetime.now(UTC)
    south_batch = {"scans": [scan_body(twice["secret"], gate="South", at=now - timedelta(minutes=5))]}
    north_batch = {"scans": [
        scan_body(once["secret"], gate="North", at=now - timedelta(minutes=2)),
        scan_body(twice["secret"], gate="North", at=now - timedelta(minutes=9)),
        scan_body(twice["secret"], gate="North", at=now - timedelta(minutes=1)),
    ]}  # fmt: skip

    south_answer = await client.post(f"/v1/events/{sale.event_id}/scans/batch", headers=south, json=south_batch)
    first = await client.post(f"/v1/events/{sale.event_id}/scans/batch", headers=north, json=north_batch)
    remembered = len((await door_pass(twice["id"])).scans)
    replay = await client.post(f"/v1/events/{sale.event_id}/scans/batch", headers=north, json=north_batch)

    assert (await south_answer.json())["results"][0]["result"] == "ok"
    body = await first.json()
    assert [(r["gate"], r["result"]) for r in body["results"]] == [
        ("North", "already_redeemed"), ("North", "ok"), ("North", "already_redeemed")
    ]  # fmt: skip
    assert [c["ticket_id"] for c in body["conflicts"]] == [twice["id"], twice["id"]]
    assert {c["redeemed_gate"] for c in body["conflicts"]} == {"South"}
    admitted = await door_pass(twice["id"])
    assert await replay.json() == body and len(admitted.scans) == remembered == 3
    assert admitted.admitted_gate == "South" and admitted.entries == 1
    assert admitted.admitted_at == now.replace(microsecond=now.microsecond // 1000 * 1000) - timedelta(minutes=5)


async def test_offline_scans_are_judged_at_their_own_time(client: TestClient) -> None:
    sale = await event_on_sale(client, starts_in=timedelta(days=2))
    [ticket] = await paid_tickets(client, sale, 1)
    [(_, headers)] = await door_staff(client, sale)

    answer = await client.post(f"/v1/events/{sale.event_id}/scans/batch", headers=headers,
                               json={"scans": [scan_body(ticket["secret"])]})  # fmt: skip
    future = await client.post(f"/v1/events/{sale.event_id}/scans/batch", headers=headers,
                               json={"scans": [scan_body(ticket["secret"], at=datetime.now(UTC) + timedelta(days=2))]})  # fmt: skip

    assert (await answer.json())["results"][0]["result"] == "not_valid_now"
    assert future.status == 422 and (await future.json())["type"] == "urn:lango:problem:scan-not-allowed"
