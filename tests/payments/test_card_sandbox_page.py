"""The card sandbox's confirmation page: a payer opens the payment's `confirm_url` in a browser and pays, is declined,
or passes 3-D Secure; the Stripe emulator's signed webhook then settles the payment as for any confirmation."""

from urllib.parse import urljoin

import aiohttp
from aiohttp.test_utils import TestClient

from documents.booking import Booking
from gateway.vendors.payments import SandboxVendors
from tests.html_pages import Form, PageReader
from tests.payments.conftest import delivered, held_booking, pay, stored_payment
from tests.properties.builders import signed_in


async def _open(http: aiohttp.ClientSession, url: str) -> tuple[int, Form | None, str]:
    async with http.get(url) as page:
        html = await page.text()
        assert page.status != 200 or "form-action 'self'" in page.headers["Content-Security-Policy"]
        forms = PageReader(html).forms
        return page.status, forms[0] if forms else None, html


async def _press(http: aiohttp.ClientSession, page_url: str, form: Form, choice: str) -> str:
    assert ("choice", choice) in form.buttons, form.buttons
    async with http.post(urljoin(page_url, form.action), data={**form.fields, "choice": choice}) as answer:
        assert answer.status == 200
        return await answer.text()


async def test_the_payer_pays_on_the_confirm_page_and_the_booking_is_confirmed(client: TestClient, sandbox: SandboxVendors) -> None:
    booking = await held_booking(client)
    payment = await pay(client, booking, "stripe")
    confirm_url = payment["confirm_url"]
    intent_id = (await stored_payment(payment["id"])).provider_reference
    assert confirm_url and f"/sandbox/confirm/{intent_id}?client_secret=" in confirm_url
    _, admin = await signed_in(client, "admin")
    seen_by_admin = await (await client.get(f"/v1/payments/{payment['id']}", headers=admin)).json()
    assert seen_by_admin["confirm_url"] is None and seen_by_admin["client_secret"] is None

    async with aiohttp.ClientSession() as http:
        status, form, html = await _open(http, confirm_url)
        assert status == 200 and form is not None and "KES" in html
        done = await _press(http, confirm_url, form, "pay")
        assert "Payment succeeded" in done
        await delivered(client.app, sandbox.stripe.notifications, 1)
        # Pressed twice (a double click, the back button): nothing is charged again.
        again = await _press(http, confirm_url, form, "pay")
        assert "Payment succeeded" in again
    assert len(sandbox.stripe.notifications.deliveries) == 1
    assert sandbox.stripe.notifications.deliveries[0].status == 200
    settled = await stored_payment(payment["id"])
    assert settled.status == "succeeded" and settled.receipt
    assert (await Booking.get(booking["id"])).status == "confirmed"


async def _pay_pressing(client: TestClient, http: aiohttp.ClientSession, sandbox: SandboxVendors, *choices: str) -> tuple[dict, str]:
    """A card payment for a new held booking, and the buttons pressed in turn on its pages: the payment and the last
    page, once the emulator's webhook is applied."""
    payment = await pay(client, await held_booking(client), "stripe")
    sent_before = len(sandbox.stripe.notifications.deliveries)
    _, form, page = await _open(http, payment["confirm_url"])
    for choice in choices:
        assert form is not None
        page = await _press(http, payment["confirm_url"], form, choice)
        form = next(iter(PageReader(page).forms), None)
    await delivered(client.app, sandbox.stripe.notifications, sent_before + 1)
    return payment, page


async def test_a_declined_card_and_a_failed_3d_secure_fail_the_payment_and_a_passed_one_pays(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    async with aiohttp.ClientSession() as http:
        declined, page = await _pay_pressing(client, http, sandbox, "insufficient_funds")
        assert "Payment not completed" in page
        failed, page = await _pay_pressing(client, http, sandbox, "authenticate", "fail_authentication")
        assert "Payment not completed" in page
        passed, page = await _pay_pressing(client, http, sandbox, "authenticate", "complete_authentication")
        assert "Payment succeeded" in page
        forged = passed["confirm_url"].split("?")[0] + "?client_secret=pi_not_the_secret"
        assert (await _open(http, forged))[0] == 404

    assert (await stored_payment(declined["id"])).reason == "Your card has insufficient funds. Try another card."
    not_authenticated = await stored_payment(failed["id"])
    assert not_authenticated.status == "failed" and "3-D Secure" in (not_authenticated.reason or "")
    assert (await stored_payment(passed["id"])).status == "succeeded"
    assert (await Booking.get(passed["booking_id"])).status == "confirmed"
