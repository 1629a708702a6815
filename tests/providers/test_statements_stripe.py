"""Stripe's balance history through the adapter and the emulator: every page of a span, charges and refunds named by
their charge, and the checks Stripe makes of a list request."""

from datetime import UTC, datetime, timedelta

import httpx

from providers.emulators import StripeSandbox
from providers.payments import StripeProvider
from providers.payments.statements import MovementKind
from tests.providers.test_payments_stripe import emulator, http, inbox, provider, sandbox  # noqa: F401  (fixtures)

KEY = {"Authorization": "Bearer sk_test_lango_sandbox"}


def charged(sandbox: StripeSandbox, amount: int) -> str:
    intent = sandbox.create_intent({"amount": str(amount), "currency": "kes"}, "http://127.0.0.1")
    sandbox.confirm(intent["id"])
    return sandbox.intents[intent["id"]]["latest_charge"]


async def test_every_page_of_a_span_comes_back_with_refunds_named_by_their_charge(
    provider: StripeProvider, sandbox: StripeSandbox, monkeypatch
) -> None:
    # Pages of two, so five movements take three pages.
    monkeypatch.setattr("providers.payments.stripe.LIST_PAGE_SIZE", 2)
    charges = [charged(sandbox, 1_000 * (n + 1)) for n in range(4)]
    refund = sandbox.refund({"payment_intent": sandbox.charges[charges[0]]["payment_intent"], "amount": "400"})
    now = datetime.now(UTC)

    found = await provider.transactions(now - timedelta(minutes=1), now + timedelta(minutes=1))

    assert sorted((t.reference, t.kind, t.amount_minor) for t in found) == sorted(
        [(c, MovementKind.COLLECTION, 1_000 * (n + 1)) for n, c in enumerate(charges)]
        + [(charges[0], MovementKind.REFUND, -400)]
    )
    refunded = next(t for t in found if t.kind is MovementKind.REFUND)
    assert refunded.transaction_id == refund["balance_transaction"] and refunded.currency == "KES"
    # Stripe's fee (2.9% + 30) comes with each charge's balance transaction; a refund's is nothing.
    assert {t.reference: t.fee_minor for t in found if t.kind is MovementKind.COLLECTION} == {
        c: (1_000 * (n + 1) * 29 + 500) // 1000 + 30 for n, c in enumerate(charges)}  # fmt: skip
    assert refunded.fee_minor == 0
    assert await provider.transactions(now + timedelta(minutes=1), now + timedelta(minutes=2)) == []


async def test_the_list_checks_the_key_and_its_parameters_as_stripe_does(
    emulator: tuple[StripeSandbox, str], http: httpx.AsyncClient
) -> None:
    sandbox, url = emulator
    charged(sandbox, 5_000)
    path = f"{url}/v1/balance_transactions"
    assert (await http.get(path, headers={"Authorization": "Bearer sk_test_wrong"})).status_code == 401
    for params, wrong in (
        ({"limit": "101"}, "limit"),
        ({"created[gte]": "yesterday"}, "created[gte]"),
        ({"colour": "blue"}, "colour"),
    ):
        answer = await http.get(path, params=params, headers=KEY)
        assert answer.status_code == 400 and answer.json()["error"]["param"] == wrong, answer.text
    page = (await http.get(path, params={"limit": "1"}, headers=KEY)).json()
    assert page["object"] == "list" and page["has_more"] is False
    (transaction,) = page["data"]
    assert (transaction["type"], transaction["amount"], transaction["net"]) == (
        "charge",
        5_000,
        5_000 - transaction["fee"],
    )
    assert transaction["source"].startswith("ch_")
