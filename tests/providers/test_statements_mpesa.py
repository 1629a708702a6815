"""Daraja's Pull Transactions through the adapter and the emulator: the Paybill's incoming payments of a span, every
page by offset, and what Daraja checks (the token, the shortcode, the dates, its 48-hour window)."""

from datetime import UTC, datetime, timedelta

import pytest

from providers.emulators import DarajaSandbox, DarajaSettings
from providers.emulators.daraja_state import MpesaTransaction
from providers.errors import ProviderError
from providers.payments import MpesaProvider
from providers.payments.statements import MovementKind
from tests.providers.test_payments_mpesa import daraja, http, inbox, mpesa  # noqa: F401  (fixtures)


@pytest.fixture
def daraja_settings() -> DarajaSettings:
    # Pages of two records, so four take three queries.
    return DarajaSettings(callback_delay_seconds=0, pull_page_size=2)


def received(sandbox: DarajaSandbox, receipt: str, amount: int, kind: str = "stk") -> None:
    sandbox.record_transaction(
        MpesaTransaction(receipt, kind, amount, "254712345678", "conversation", account_reference="BK7Q2")
    )  # type: ignore[arg-type]


async def test_the_paybills_incoming_payments_of_a_span_come_back_from_every_page(
    mpesa: MpesaProvider, daraja: tuple[DarajaSandbox, str]
) -> None:
    sandbox = daraja[0]
    for n in range(3):
        received(sandbox, f"SLK00000{n}", 100 * (n + 1))
    received(sandbox, "SLKPAYBILL", 250, "paybill")
    # Money leaving through B2C is not the Paybill's to list.
    received(sandbox, "SLKPAYOUT0", 900, "b2c")
    now = datetime.now(UTC)

    found = await mpesa.transactions(now - timedelta(minutes=1), now + timedelta(minutes=1))

    assert sorted((t.reference, t.kind, t.amount_minor, t.currency) for t in found) == [
        ("SLK000000", MovementKind.COLLECTION, 10_000, "KES"),
        ("SLK000001", MovementKind.COLLECTION, 20_000, "KES"),
        ("SLK000002", MovementKind.COLLECTION, 30_000, "KES"),
        ("SLKPAYBILL", MovementKind.COLLECTION, 25_000, "KES"),
    ]
    assert found[0].raw["billreference"] == "BK7Q2"
    assert await mpesa.transactions(now + timedelta(minutes=1), now + timedelta(minutes=2)) == []


async def test_daraja_refuses_a_span_beyond_its_48_hours(mpesa: MpesaProvider) -> None:
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    with pytest.raises(ProviderError):
        await mpesa.transactions(three_days_ago, three_days_ago + timedelta(days=1))


async def test_the_query_checks_the_token_the_shortcode_and_the_dates(
    daraja: tuple[DarajaSandbox, str], http, mpesa: MpesaProvider
) -> None:
    _, url = daraja
    path = f"{url}/pulltransactions/v1/query"
    body = {"ShortCode": "174379", "StartDate": datetime.now(UTC).strftime("%Y-%m-%d 00:00:00"),
            "EndDate": datetime.now(UTC).strftime("%Y-%m-%d 23:59:59"), "OffSetValue": "0"}  # fmt: skip
    assert (await http.post(path, json=body, headers={"Authorization": "Bearer nope"})).status_code == 404
    bearer = {"Authorization": f"Bearer {await mpesa.access_token()}"}
    for wrong in (
        {"ShortCode": "600000"},
        {"StartDate": "yesterday"},
        {"EndDate": "2020-01-01 00:00:00"},
        {"OffSetValue": "-1"},
    ):
        answer = await http.post(path, json={**body, **wrong}, headers=bearer)
        assert answer.status_code == 400, wrong
    answer = await http.post(path, json=body, headers=bearer)
    assert answer.json()["ResponseCode"] == "1000"
