"""The ledger's accounts, by name: cash at each vendor, what each host is owed, and the platform's own."""

import re

PLATFORM_REVENUE = "platform_revenue"
# Owed back to payers: a refund recorded and not yet sent (or sent by hand, or refused by the vendor).
REFUNDS_PAYABLE = "refunds_payable"
# Money that matches nothing yet: collected for a payment whose payee is unknown, or not matched to any target.
SUSPENSE = "suspense"
# Where one currency turns into another (a KES price charged in USD by PayPal): the platform's currency position.
FX_CONVERSION = "fx_conversion"

ACCOUNT_NAME = re.compile(r"^(platform_revenue|refunds_payable|suspense|fx_conversion|cash:[a-z0-9_]{1,32}|"
                          r"host_payable:[0-9a-f]{24}|host_receivable:[0-9a-f]{24}|payouts_in_flight:[0-9a-f]{24}|"
                          r"vendor_fees:[a-z0-9_]{1,32})$")  # fmt: skip


def cash(provider: str) -> str:
    """Money held at a payment vendor (mpesa, stripe, paypal): an asset, a debit balance."""
    return f"cash:{provider}"


def host_payable(user_id: str) -> str:
    """What the platform owes a host or agent for sales net of commission and refunds, until paid out."""
    return f"host_payable:{user_id}"


def host_receivable(user_id: str) -> str:
    """What a host owes the platform: a refund's host share beyond what the host was still owed (already paid out)."""
    return f"host_receivable:{user_id}"


def payouts_in_flight(user_id: str) -> str:
    """What a host's payouts sent and not yet settled carry: taken from what they are owed as the payout starts, so
    nothing else (a refund, another payout) can take it too; paid out from here, or returned when the payout fails."""
    return f"payouts_in_flight:{user_id}"


def vendor_fees(provider: str) -> str:
    """What a payment vendor kept of the money it moved (Stripe's and PayPal's fees): an expense, a debit balance."""
    return f"vendor_fees:{provider}"
