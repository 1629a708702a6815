"""The console's money pages in Chromium at phone width: an admin reads the ledger, retries a payout, assigns
unmatched Paybill money, refunds part of a payment and locks an account; a host reads their earnings in Kiswahili.
Each page is checked with axe-core and saved as a screenshot."""

import pytest
from aiohttp.test_utils import TestClient

from documents.booking import Booking
from documents.payment import Payment
from documents.payout import Payout, PayoutStatus
from documents.user import User
from gateway.ledger.accounts import cash, host_payable
from gateway.vendors.payments import SandboxVendors
from providers.emulators import pay_bill
from tests.browser.conftest import Browsers
from tests.browser.console_steps import accessible, screenshot, sign_in, with_two_factor
from tests.payments.conftest import client, gateway_port, gateway_socket, held_booking, published, sandbox, settings  # noqa: F401  (fixtures)
from tests.payments.test_cards_and_refunds import paid_by_card
from tests.payments.test_paybill import PAYER, daraja, kes

pytestmark = pytest.mark.timeout(240)


async def test_an_admin_works_through_the_money_pages(
    client: TestClient, sandbox: SandboxVendors, browsers: Browsers, gateway_url: str
) -> None:  # noqa: F811
    paid = await held_booking(client)
    payment = await paid_by_card(client, sandbox, paid)
    waiting = await held_booking(client)
    await pay_bill(daraja(sandbox), PAYER, kes(waiting["paybill"]["amount_minor"]), "WRONGREF", validated=False)
    failed = Payout(user_id=paid["agent_id"], amount_minor=250_000, phone="254711111111", status=PayoutStatus.FAILED,
                    reason="The payment was refused: the receiver is not registered")  # fmt: skip
    await failed.insert()
    admin, secret = await with_two_factor(client, "admin")
    page = await sign_in(browsers, gateway_url, admin.email or "", secret)

    await page.click("nav >> text=Ledger")
    await page.wait_for_selector("#balances")
    assert host_payable(paid["agent_id"]) in await page.inner_text("#balances")
    await accessible(page)
    await screenshot(browsers, page, "01-ledger-balances")
    await page.click(f"#balances >> text={cash('stripe')}")
    await page.wait_for_selector("#entries")
    assert "payment collected" in await page.inner_text("#entries")
    await accessible(page)
    await screenshot(browsers, page, "02-ledger-entries")

    await page.click("nav >> text=Payouts")
    await page.wait_for_selector("#payouts")
    assert "receiver is not registered" in await page.inner_text("#payouts")
    await accessible(page)
    await screenshot(browsers, page, "03-payouts")
    await page.click("#payouts >> text=Pay again")
    # The stay is not past its holdback: nothing is payable yet, and the page says why.
    assert "cannot be retried now" in await page.inner_text("#problem")

    await page.click("nav >> text=Paybill")
    await page.wait_for_selector("details summary")
    await accessible(page)
    await screenshot(browsers, page, "04-paybill")
    await page.click("text=Assign to a booking or order")
    await page.fill("input[name=target_id]", waiting["id"])
    await page.fill("textarea[name=note]", "Guest sent the receipt by SMS")
    await page.click("text=Assign >> nth=-1")
    assert "the booking or order is paid" in await page.inner_text("#done")
    assert (await Booking.get(waiting["id"])).status == "confirmed"  # type: ignore[union-attr]
    await accessible(page)
    await screenshot(browsers, page, "05-paybill-assigned")

    await page.goto(f"{gateway_url}/console/payments/{payment['id']}")
    await page.fill("#refund-amount", "1500")
    await page.fill("#refund-reason", "Water was off for a day")
    await page.click("#refund-payment button")
    assert "Refund asked" in await page.inner_text("#done")
    refunds = (await Payment.get(payment["id"])).refunds  # type: ignore[union-attr]
    assert [refund.requested_minor for refund in refunds] == [150_000]
    await accessible(page)
    await screenshot(browsers, page, "06-payment-refunded")

    await page.goto(f"{gateway_url}/console/users/{paid['agent_id']}")
    await page.fill("#lock-reason", "Chargebacks under review")
    await page.click("#account-lock button")
    assert "Account locked" in await page.inner_text("#done")
    assert await page.inner_text("#locked-state") == "Yes"
    assert (await User.get(paid["agent_id"])).locked_at is not None  # type: ignore[union-attr]
    await accessible(page)
    await screenshot(browsers, page, "07-user-locked")


async def test_a_host_reads_their_earnings_in_kiswahili(
    client: TestClient, sandbox: SandboxVendors, browsers: Browsers, gateway_url: str
) -> None:  # noqa: F811
    paid = await held_booking(client)
    await paid_by_card(client, sandbox, paid)
    agent, secret = await with_two_factor(client, "agent", await User.get(paid["agent_id"]))
    page = await sign_in(browsers, gateway_url, agent.email or "", secret)

    await page.click("nav >> text=Earnings")
    await page.wait_for_selector("#earnings-kes")
    earned = paid["price"]["total_minor"] - paid["price"]["platform_fee_minor"]
    assert f"{earned / 100:,.2f} KES" in await page.inner_text("#earnings-kes")
    assert "No payout phone yet" in await page.inner_text("#no-destination")
    await accessible(page)
    await screenshot(browsers, page, "01-earnings")
    await page.click("button[lang=sw]")
    await page.wait_for_selector("html[lang=sw]")
    assert "Mapato" in await page.inner_text("h1")
    await accessible(page)
    await screenshot(browsers, page, "02-earnings-sw")
