"""Running a day's reconciliation in tests, and reading its report back through the admin routes."""

from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient

from documents.reconciliation import ReconciliationReport
from gateway.reconciliation.run import reconcile_day, statement_sources
from gateway.state import SERVICES


def today() -> str:
    return datetime.now(UTC).date().isoformat()


async def run_today(client: TestClient, provider: str) -> ReconciliationReport:
    services = client.app[SERVICES]
    report = await reconcile_day(services, datetime.now(UTC).date(), statement_sources(services)[provider])
    assert report is not None
    return report


async def report_rows(
    client: TestClient, report_id: str, headers: dict[str, str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The report and all its rows, a page of two at a time."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = await client.get(
            f"/v1/admin/reconciliation/reports/{report_id}",
            params={"limit": 2, **({"cursor": cursor} if cursor else {})},
            headers=headers,
        )
        assert answer.status == 200, await answer.text()
        page = await answer.json()
        rows += page["rows"]
        if (cursor := page["next_cursor"]) is None:
            return page["report"], rows


def by_status(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["status"], []).append(row)
    return found
