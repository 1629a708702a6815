"""Admins' reconciliation routes: pages of reports and rows, asking for a day to be run again (rate limited, audited,
run by the worker's job), the daily job's timing; no one else may read or ask."""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient

from documents.audit import AuditEvent, AuditKind
from documents.reconciliation import ReconciliationReport
from gateway.reconciliation.run import reconcile_requested_day, reconcile_yesterday
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from tests.ledger.test_routes import admin_headers, all_pages
from tests.payments.conftest import held_booking
from tests.payments.test_cards_and_refunds import paid_by_card
from tests.properties.builders import problem_type, signed_in
from tests.reconciliation.days import run_today, today

REPORTS = "/v1/admin/reconciliation/reports"
RUNS = "/v1/admin/reconciliation/runs"


async def test_only_admins_read_reports_or_ask_for_runs(client: TestClient, sandbox: SandboxVendors) -> None:
    report = await run_today(client, "stripe")
    _, guest = await signed_in(client)
    _, agent = await signed_in(client, "agent")
    for path in (REPORTS, f"{REPORTS}/{report.id}", f"{REPORTS}/{report.id}/rows.csv"):
        assert (await client.get(path)).status == 401
        for headers in (guest, agent):
            assert (await client.get(path, headers=headers)).status == 403, path
    assert (await client.post(RUNS, json={"day": today()}, headers=agent)).status == 403
    assert await AuditEvent.find({"kind": AuditKind.RECONCILIATION_REQUESTED.value}).count() == 0


async def test_reports_page_newest_first_and_filter_by_vendor_and_day(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    await paid_by_card(client, sandbox, await held_booking(client))
    made = [await run_today(client, provider) for provider in ("mpesa", "stripe", "paypal")]
    admin = await admin_headers(client)

    listed = await all_pages(client, REPORTS, admin)
    assert [item["id"] for item in listed] == [str(report.id) for report in reversed(made)]
    (stripe,) = await all_pages(client, REPORTS, admin, provider="stripe", day=today())
    assert (stripe["provider"], stripe["day"], stripe["status"], stripe["running"]) == (
        "stripe",
        today(),
        "complete",
        False,
    )
    assert stripe["counts"]["matched"] == 2  # the charge and Stripe's fee on it
    assert await all_pages(client, REPORTS, admin, day="2020-01-01") == []
    assert (await client.get(REPORTS, params={"cursor": "not-a-cursor"}, headers=admin)).status == 422
    assert (await client.get(REPORTS, params={"colour": "blue"}, headers=admin)).status == 422
    missing = await client.get(f"{REPORTS}/{'0' * 24}", headers=admin)
    assert missing.status == 404 and missing.content_type == "application/problem+json"
    only_matched = await client.get(f"{REPORTS}/{stripe['id']}", params={"status": "amount_differs"}, headers=admin)
    assert (await only_matched.json())["rows"] == []


async def test_an_admin_asks_for_a_day_and_the_worker_replaces_its_reports(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    await paid_by_card(client, sandbox, await held_booking(client))
    first = await run_today(client, "stripe")
    admin = await admin_headers(client)
    services = client.app[SERVICES]
    queued_before = await services.queue.count("queued")

    asked = await client.post(RUNS, json={"day": today(), "provider": "stripe"}, headers=admin)
    assert asked.status == 202, await asked.text()
    assert await asked.json() == {"day": today(), "providers": ["stripe"]}
    assert await services.queue.count("queued") == queued_before + 1
    (audit,) = await AuditEvent.find({"kind": AuditKind.RECONCILIATION_REQUESTED.value}).to_list()
    assert audit.details == {"day": today(), "providers": ["stripe"]} and audit.actor_id is not None
    # What the queued job does on a worker.
    assert await reconcile_requested_day({"services": services}, day=today(), providers=["stripe"]) == {
        "stripe": "complete"
    }
    again = await ReconciliationReport.get(first.id)
    assert again is not None and again.runs == 2

    every = await client.post(RUNS, json={"day": today()}, headers=admin)
    assert (await every.json())["providers"] == ["mpesa", "paypal", "stripe"]


async def test_a_run_request_is_validated_and_rate_limited_per_admin(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    admin = await admin_headers(client)
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    for body, status in (({"day": tomorrow}, 400), ({"day": today(), "provider": "visa"}, 400), ({"day": "2026-13-01"}, 422),
                         ({"day": today(), "colour": "blue"}, 422), ({"provider": "stripe"}, 422)):  # fmt: skip
        answer = await client.post(RUNS, json=body, headers=admin)
        assert answer.status == status, (body, await answer.text())
    answers = await asyncio.gather(
        *(client.post(RUNS, json={"day": today(), "provider": "stripe"}, headers=admin) for _ in range(12))
    )
    assert sorted(answer.status for answer in answers) == [202] * 10 + [429] * 2
    refused = next(answer for answer in answers if answer.status == 429)
    assert await problem_type(refused) == "rate-limited" and "Retry-After" in refused.headers
    # Another admin has a budget of their own.
    assert (await client.post(RUNS, json={"day": today()}, headers=await admin_headers(client))).status == 202


async def test_the_daily_job_runs_the_day_before_from_its_hour_once_per_vendor(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    services = client.app[SERVICES]
    hour = services.settings.reconciliation.run_after_hour_utc
    midnight = datetime.now(UTC).replace(hour=0, minute=15, second=0, microsecond=0)
    yesterday = (midnight - timedelta(days=1)).date().isoformat()

    early = replace(services, clock=lambda: midnight + timedelta(hours=hour - 1))
    assert await reconcile_yesterday({"services": early}) == {}
    on_time = replace(services, clock=lambda: midnight + timedelta(hours=hour))
    assert await reconcile_yesterday({"services": on_time}) == {
        "mpesa": "complete",
        "stripe": "complete",
        "paypal": "complete",
    }
    assert await ReconciliationReport.find({"day": yesterday}).count() == 3
    # Each vendor's report of the day is complete: the next hours leave them be.
    assert await reconcile_yesterday({"services": on_time}) == {}


async def test_a_report_held_by_a_run_shows_running_and_a_requested_run_waits_its_turn(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    services = client.app[SERVICES]
    held = await ReconciliationReport.claim(today(), "stripe", "another-run", timedelta(minutes=15))
    assert (
        held is not None
        and await ReconciliationReport.claim(today(), "stripe", "a-third-run", timedelta(minutes=15)) is None
    )
    admin = await admin_headers(client)
    (shown,) = await all_pages(client, REPORTS, admin)
    assert (shown["status"], shown["running"], shown["runs"]) == ("running", True, 0)
    queued_before = await services.queue.count("incomplete")

    assert await reconcile_requested_day({"services": services}, day=today(), providers=["stripe"]) == {
        "stripe": "busy"
    }
    # Asked for again a minute later, not dropped.
    assert await services.queue.count("incomplete") == queued_before + 1
    assert await ReconciliationReport.find({"day": today()}).count() == 1
