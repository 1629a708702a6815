"""A host's earnings as they see them: the ledger's figures, with what they are owed split into held back (pending)
and payable now."""

from datetime import datetime, timedelta

from gateway.ledger.reading import earnings_of
from gateway.ledger.views import EarningsView
from gateway.payouts.earnings import payable_minor
from gateway.security.callers import Caller
from gateway.services import Services

# The currency payouts are made in (M-Pesa B2C); what is owed in another stays pending.
PAID_OUT_IN = "KES"


async def earnings_now(services: Services, caller: Caller, now: datetime) -> EarningsView:
    """The caller's earnings per currency: what the ledger says they are owed (what payouts on their way carry is
    reserved out of it already), less what the next payout would pay, is what the holdback still keeps."""
    view = await earnings_of(caller)
    currencies = []
    for earnings in view.currencies:
        owed = earnings.pending_minor
        if earnings.currency == PAID_OUT_IN and owed:
            holdback = timedelta(seconds=services.settings.payouts.holdback_s)
            payable = min(owed, await payable_minor(caller.user_id, now, holdback))
            earnings = earnings.model_copy(update={"pending_minor": owed - payable, "payable_minor": payable})
        currencies.append(earnings)
    return view.model_copy(update={"currencies": currencies})
