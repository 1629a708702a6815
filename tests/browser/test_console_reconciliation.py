"""Admins read the daily reconciliation reports at the console, in English and Kiswahili, download one's CSV and ask
for a day to be run again."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient

from documents.audit import AuditEvent, AuditKind
from gateway.reconciliation.run import reconcile_day, statement_sources
from gateway.state import SERVICES
from tests.browser.conftest import Browsers
from tests.browser.console_steps import accessible, screenshot, sign_in, with_two_factor

pytestmark = pytest.mark.timeout(180)


async def test_an_admin_reads_the_days_reports_and_downloads_a_csv(
    client: TestClient, browsers: Browsers, gateway_url: str
) -> None:
    services = client.app[SERVICES]
    # PayPal took a payment the ledger never heard of; Stripe's day is clean and empty.
    services.payments.sandbox.paypal.record_transaction(
        "T0006", "9XJ61528KS2370012", {"currency_code": "USD", "value": "84.20"}
    )
    today = datetime.now(UTC).date()
    for provider in ("paypal", "stripe"):
        await reconcile_day(services, today, statement_sources(services)[provider])
    admin, secret = await with_two_factor(client, "admin")
    page = await sign_in(browsers, gateway_url, admin.email or "", secret)

    await page.click("nav >> text=Reconciliation")
    await page.wait_for_selector("nav a[aria-current=page]:text-is('Reconciliation')")
    table = await page.inner_text("#reports")
    assert await page.locator("#reports tbody tr").count() == 2
    assert "paypal" in table and "stripe" in table and "-84.20 USD" in table
    await accessible(page)
    await screenshot(browsers, page, "01-reports")

    async with page.expect_download() as started:
        await page.click(f"a[aria-label='Download the paypal report of {today} as CSV']")
    download = await started.value
    assert download.suggested_filename == f"reconciliation-{today}-paypal.csv"
    # The payment is unknown to the ledger; PayPal's fee on it is posted from the listing and matched.
    line, fee = list(csv.DictReader(io.StringIO((await (await page.context.request.get(download.url)).body()).decode())))
    assert (fee["status"], fee["kind"], fee["vendor_minor"], fee["ledger_minor"]) == ("matched", "fee", "-343", "-343")
    assert (line["status"], line["reference"], line["vendor_minor"]) == (
        "missing_in_ledger",
        "9XJ61528KS2370012",
        "8420",
    )

    await page.fill("#run-day", (today + timedelta(days=1)).isoformat())
    await page.click("#run-reconciliation")
    assert "has not happened yet" in await page.inner_text("#problem")
    await page.fill("#run-day", today.isoformat())
    await page.select_option("#run-provider", "paypal")
    await page.click("#run-reconciliation")
    assert "Queued" in await page.inner_text("#done")
    (audit,) = await AuditEvent.find({"kind": AuditKind.RECONCILIATION_REQUESTED.value}).to_list()
    assert audit.details == {"day": today.isoformat(), "providers": ["paypal"]}
    await accessible(page)
    await screenshot(browsers, page, "02-run-queued")

    await page.select_option("#provider", "stripe")
    await page.click("#filter-reports")
    assert "paypal" not in await page.inner_text("#reports")
    await page.fill("#day", "2020-01-01")
    await page.click("#filter-reports")
    assert "No reconciliation report yet" in await page.inner_text("#no-reports")

    await page.click("button[lang=sw]")
    await page.wait_for_selector("html[lang=sw]")
    await page.click("nav >> text=Upatanisho")
    assert "Hazipo kwenye leja" in await page.inner_text("#reports")
    await accessible(page)
    await screenshot(browsers, page, "03-reports-sw")
