"""PayPal's Transaction Search through the adapter and the emulator: captures and refunds of a span, every page,
and the checks PayPal makes (a bearer token, dates with an offset, 31 days at most, pages of 1-500)."""

from datetime import UTC, datetime, timedelta

import httpx

from providers.emulators import PaypalSandbox
from providers.payments import PaypalProvider
from providers.payments.statements import MovementKind
from tests.providers.test_payments_paypal import emulator, http, inbox, provider, sandbox  # noqa: F401  (fixtures)


async def token(http: httpx.AsyncClient, url: str) -> dict[str, str]:
    answer = await http.post(f"{url}/v1/oauth2/token", data={"grant_type": "client_credentials"},
                             auth=("lango-sandbox-client", "lango-sandbox-secret"))  # fmt: skip
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_captures_and_refunds_of_a_span_come_back_from_every_page(
    provider: PaypalProvider, sandbox: PaypalSandbox, monkeypatch
) -> None:
    monkeypatch.setattr("providers.payments.paypal_reporting.PAGE_SIZE", 2)
    for n in range(3):
        sandbox.record_transaction("T0006", f"CAPTURE{n}", {"currency_code": "USD", "value": f"{n + 1}0.00"})
    refund = sandbox.record_transaction("T1107", "REFUND0", {"currency_code": "USD", "value": "-2.50"}, reference="CAPTURE0")
    # A partial refund gives back part of PayPal's fee: listed positive, as it moves the balance.
    refund["transaction_info"]["fee_amount"] = {"currency_code": "USD", "value": "0.09"}
    sandbox.record_transaction("T0400", "WITHDRAWAL", {"currency_code": "USD", "value": "-5.00"})
    now = datetime.now(UTC)

    found = await provider.transactions(now - timedelta(minutes=1), now + timedelta(minutes=1))

    assert [(t.reference, t.kind, t.amount_minor, t.transaction_id) for t in found] == [
        ("CAPTURE0", MovementKind.COLLECTION, 1_000, "CAPTURE0"),
        ("CAPTURE1", MovementKind.COLLECTION, 2_000, "CAPTURE1"),
        ("CAPTURE2", MovementKind.COLLECTION, 3_000, "CAPTURE2"),
        ("CAPTURE0", MovementKind.REFUND, -250, "REFUND0"),
    ]
    # 3.49% + 0.49 of each payment received, to the cent; negative for the fee given back.
    assert [t.fee_minor for t in found] == [84, 119, 154, -9]
    assert await provider.transactions(now - timedelta(days=2), now - timedelta(days=1)) == []


async def test_the_search_checks_the_token_the_dates_and_the_page(
    emulator: tuple[PaypalSandbox, str], http: httpx.AsyncClient
) -> None:
    _, url = emulator
    path = f"{url}/v1/reporting/transactions"
    span = {"start_date": "2026-01-01T00:00:00+0000", "end_date": "2026-01-01T23:59:59+0000"}
    assert (await http.get(path, params=span)).status_code == 401
    bearer = await token(http, url)
    for params in ({"end_date": span["end_date"]}, {**span, "start_date": "2026-01-01"},
                   {**span, "end_date": "2026-02-15T00:00:00+0000"}, {**span, "page_size": "501"}, {**span, "page": "0"}):  # fmt: skip
        answer = await http.get(path, params=params, headers=bearer)
        assert answer.status_code == 400 and answer.json()["name"] == "INVALID_REQUEST", params
    answer = await http.get(path, params=span, headers=bearer)
    assert answer.status_code == 200
    assert (answer.json()["total_items"], answer.json()["total_pages"], answer.json()["transaction_details"]) == (
        0,
        1,
        [],
    )
