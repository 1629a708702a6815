"""The console's money pages read and act through the admin routes' own domain calls: the ledger's balances and
entries, unmatched Paybill money assigned or returned, a payment refunded once per form, payouts, and a host's
earnings; every action needs the form token, and empty lists say so."""

import re

import pytest
from aiohttp.test_utils import TestClient

from documents.booking import Booking
from documents.payment import Payment
from documents.user import User
from gateway.ledger.accounts import cash, host_payable
from gateway.settings import Settings
from gateway.vendors.payments import SandboxVendors
from providers.emulators import pay_bill
from tests.accounts.test_console_sessions import console_sign_in, form_token
from tests.factories import create_user, settings_with
from tests.payments.conftest import held_booking
from tests.payments.test_cards_and_refunds import paid_by_card
from tests.payments.test_paybill import PAYER, daraja, kes


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Admins and agents sign in with a password alone here; two-factor sign-in has its own browser test.
    return settings_with(settings, "auth", mfa_required_roles=[])


async def _admin_at_console(client: TestClient) -> None:
    admin = await create_user(client.app, roles=("guest", "admin"))
    await console_sign_in(client, admin.email or "")


async def _page(client: TestClient, path: str, status: int = 200) -> str:
    answer = await client.get(path, allow_redirects=False)
    assert answer.status == status, (path, answer.status)
    return await answer.text()


async def test_admins_read_the_ledger_and_see_empty_payouts_and_paybill_lists(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking = await held_booking(client)
    await paid_by_card(client, sandbox, booking)
    await _admin_at_console(client)

    assert 'id="no-payouts"' in await _page(client, "/console/payouts")
    assert 'id="no-paybill"' in await _page(client, "/console/paybill")
    balances = await _page(client, "/console/ledger")
    hosts = await _page(client, "/console/ledger?account_prefix=host_payable:")
    stripe = await _page(client, f"/console/ledger/entries?account={cash('stripe')}")
    refused = await _page(client, "/console/ledger/entries?kind=gift", 422)
    paged = await _page(client, "/console/ledger/entries?cursor=not-a-cursor", 400)

    assert host_payable(booking["agent_id"]) in balances and cash("stripe") in balances
    assert host_payable(booking["agent_id"]) in hosts and cash("stripe") not in hosts
    assert "payment collected" in stripe and "commission</td>" not in stripe
    assert 'id="problem"' in refused and 'id="problem"' in paged


async def test_unmatched_paybill_money_is_assigned_from_the_console(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking = await held_booking(client)
    typo = await pay_bill(daraja(sandbox), PAYER, kes(booking["paybill"]["amount_minor"]), "WRONGREF", validated=False)
    await _admin_at_console(client)
    listed = await _page(client, "/console/paybill")
    paybill_id = re.search(r'id="assign-([0-9a-f]{24})"', listed).group(1)  # type: ignore[union-attr]
    assert typo.trans_id in listed
    assign = f"/console/paybill/{paybill_id}/assign"
    fields = {"purpose": "booking", "target_id": booking["id"], "note": "guest called"}

    forged = await client.post(assign, data=fields, allow_redirects=False)
    unexplained = await client.post(
        assign, data={**fields, "note": "", "csrf": await form_token(client, "/console/paybill")}
    )
    assigned = await client.post(
        assign, data={**fields, "csrf": await form_token(client, "/console/paybill")}, allow_redirects=False
    )
    twice = await client.post(assign, data={**fields, "csrf": await form_token(client, "/console/paybill")})

    assert forged.status == 403 and unexplained.status == 422
    assert assigned.status == 303 and assigned.headers["Location"] == "/console/paybill?done=assigned"
    assert (await Booking.get(booking["id"])).status == "confirmed"  # type: ignore[union-attr]
    assert twice.status == 409 and "no longer unmatched" in await twice.text()
    assert 'id="no-paybill"' in await _page(client, "/console/paybill?done=assigned")


async def test_a_payment_is_refunded_once_per_form_from_its_page(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client)
    payment = await paid_by_card(client, sandbox, booking)
    await _admin_at_console(client)
    path = f"/console/payments/{payment['id']}"
    shown = await _page(client, path)
    token = re.search(r'name="csrf" value="([^"]+)"', shown).group(1)  # type: ignore[union-attr]
    key = re.search(r'name="refund_key" value="([^"]+)"', shown).group(1)  # type: ignore[union-attr]
    form = {"csrf": token, "refund_key": key, "amount": "1000.50", "reason": "Water was off for a day"}

    forged = await client.post(f"{path}/refund", data={**form, "csrf": ""}, allow_redirects=False)
    mistyped = await client.post(f"{path}/refund", data={**form, "amount": "10,00.5x"})
    too_much = await client.post(f"{path}/refund", data={**form, "amount": "99999999"})
    refunded = await client.post(f"{path}/refund", data=form, allow_redirects=False)
    sent_twice = await client.post(f"{path}/refund", data=form, allow_redirects=False)

    assert forged.status == 403 and mistyped.status == 422 and too_much.status == 409
    assert refunded.status == sent_twice.status == 303
    stored = await Payment.get(payment["id"])
    assert [refund.requested_minor for refund in stored.refunds] == [100_050]  # type: ignore[union-attr]
    assert 'id="done"' in await _page(client, refunded.headers["Location"])


async def test_a_host_sees_earnings_and_that_no_payout_phone_is_set(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking = await held_booking(client)
    await paid_by_card(client, sandbox, booking)
    agent = await User.get(booking["agent_id"])
    client.session.cookie_jar.clear()
    before = await _page(client, "/console/earnings", 303)
    await console_sign_in(client, agent.email or "")  # type: ignore[union-attr]

    shown = await _page(client, "/console/earnings")

    assert before == ""
    earned = booking["price"]["total_minor"] - booking["price"]["platform_fee_minor"]
    assert f"{earned / 100:,.2f} KES" in shown and 'id="no-destination"' in shown
    assert (await client.get("/console/ledger", allow_redirects=False)).status == 403
