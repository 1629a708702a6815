"""Admins find a payment at the console by its receipt and read it with the vendor's own record of it."""

import pytest
from aiohttp.test_utils import TestClient

from documents.payment import Payment, PaymentPurpose, PaymentStatus
from documents.payment_event import PaymentEvent
from tests.browser.conftest import Browsers
from tests.browser.console_steps import accessible, screenshot, sign_in, with_two_factor

pytestmark = pytest.mark.timeout(180)


async def settled_mpesa_payment(payer_id: str) -> Payment:
    """A booking's M-Pesa payment that succeeded, and Safaricom's callback about it as it was stored."""
    payment = Payment(
        user_id=payer_id, purpose=PaymentPurpose.BOOKING, target_id="6b0615c3c5127ac915406430", provider="mpesa",
        status=PaymentStatus.SUCCEEDED, description="2 nights at Kilimani Loft", requested_amount_minor=1_100_000,
        requested_currency="KES", charged_amount_minor=1_100_000, charged_currency="KES",
        provider_reference="ws_CO_0312202614150001", receipt="QK7A1B2C3D",
    )  # fmt: skip
    await payment.insert()
    callback = {"Body": {"stkCallback": {"MerchantRequestID": "29115-34620561-1", "CheckoutRequestID": "ws_CO_0312202614150001",
                "ResultCode": 0, "ResultDesc": "The service request is processed successfully."}}}  # fmt: skip
    await PaymentEvent(
        provider="mpesa", dedupe_key="ws_CO_0312202614150001", source="callback", reference="ws_CO_0312202614150001",
        outcome="succeeded", reason="Payment received. Thank you.", amount_minor=1_100_000, currency="KES",
        receipt="QK7A1B2C3D", raw=callback, payment_id=payment.id,
    ).insert()  # fmt: skip
    return payment


async def test_an_admin_finds_a_payment_by_its_receipt(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    admin, secret = await with_two_factor(client, "admin")
    payment = await settled_mpesa_payment(str(admin.id))
    page = await sign_in(browsers, gateway_url, admin.email or "", secret)

    await page.click("nav >> text=Payments")
    await page.fill("#q", "nothing-like-it")
    await page.click("#find-payment")
    assert "No payment is nothing-like-it" in await page.inner_text("#not-found")
    await page.fill("#q", "qk7a1b2c3d")
    await page.click("#find-payment")
    await accessible(page)
    await screenshot(browsers, page, "01-found")
    await page.click("#payments >> text=QK7A1B2C3D")

    await page.wait_for_url(f"{gateway_url}/console/payments/{payment.id}")
    facts = await page.inner_text("#payment")
    assert "11,000.00 KES" in facts and "succeeded" in facts and "mpesa" in facts
    assert "ws_CO_0312202614150001" in await page.inner_text("pre.raw")
    await accessible(page)
    await screenshot(browsers, page, "02-payment")
