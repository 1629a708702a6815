"""The Stripe emulator's pages for a payer in a browser: confirm a PaymentIntent, pass 3-D Secure, see the outcome."""

from html import escape
from typing import Any

# The buttons that charge the card, and the test payment method each stands for.
CARD_CHOICES = {
    "pay": "pm_card_visa",
    "decline": "pm_card_chargeDeclined",
    "insufficient_funds": "pm_card_chargeDeclinedInsufficientFunds",
    "complete_authentication": "pm_card_visa",
}
# The buttons that go through 3-D Secure first, and that fail it.
AUTHENTICATE, FAIL_AUTHENTICATION = "authenticate", "fail_authentication"

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}"
    "button{display:block;width:100%;margin:.5rem 0;padding:.75rem;font-size:1rem;border-radius:.4rem;"
    "border:1px solid #555;background:#fff;color:#1a1a1a;cursor:pointer}"
    "button.primary{background:#0a5c36;border-color:#0a5c36;color:#fff}"
    "button:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}"
    ".amount{font-size:1.6rem;font-weight:600}.note{color:#444}"
)


def _amount(intent: dict[str, Any]) -> str:
    # Zero-decimal currencies are not emulated: KES and USD both count cents.
    return f"{intent['currency'].upper()} {intent['amount'] / 100:,.2f}"


def _document(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def _form(intent: dict[str, Any], buttons: list[tuple[str, str, bool]]) -> str:
    rows = "".join(
        f'<button type="submit" name="choice" value="{choice}"{" class=primary" if primary else ""}>{escape(label)}</button>'
        for choice, label, primary in buttons
    )
    return (
        f'<form method="post" action="/sandbox/confirm/{escape(intent["id"])}">'
        f'<input type="hidden" name="client_secret" value="{escape(intent["client_secret"])}">{rows}</form>'
    )


def confirmation_page(intent: dict[str, Any], *, notice: str | None = None) -> str:
    if intent["status"] == "succeeded":
        return outcome_page(intent)
    description = escape(intent.get("description") or "Payment")
    shown_notice = f'<p role="alert">{escape(notice)}</p>' if notice else ""
    return _document(
        "Confirm your payment",
        f"<h1>Confirm your payment</h1><p>{description}</p><p class=amount>{_amount(intent)}</p>{shown_notice}"
        "<p class=note>Card sandbox: no card is charged. Choose what the card does.</p>"
        + _form(
            intent,
            [
                ("pay", "Pay", True),
                (AUTHENTICATE, "Pay with a card that asks for 3-D Secure", False),
                ("decline", "Card declined", False),
                ("insufficient_funds", "Card declined: insufficient funds", False),
            ],
        ),
    )


def authentication_page(intent: dict[str, Any]) -> str:
    return _document(
        "3-D Secure",
        f"<h1>Your bank asks you to approve this payment</h1><p class=amount>{_amount(intent)}</p>"
        "<p class=note>Card sandbox: this stands in for the bank's 3-D Secure check.</p>"
        + _form(intent, [("complete_authentication", "Complete authentication", True), (FAIL_AUTHENTICATION, "Fail authentication", False)]),
    )


def outcome_page(intent: dict[str, Any]) -> str:
    if intent["status"] == "succeeded":
        heading, text = "Payment succeeded", "You can close this page and return to the app."
    else:
        error = intent.get("last_payment_error") or {}
        heading = "Payment not completed"
        text = f"{error.get('message', 'The card was not charged.')} Return to the app to try again."
    return _document(heading, f'<h1>{heading}</h1><p class=amount>{_amount(intent)}</p><p role="status">{escape(text)}</p>')
