"""Payout vendors behind one contract: M-Pesa B2C today; a bank transfer or Stripe Connect adapter fits beside it."""

from providers.payouts.base import PayoutProvider, PayoutRequest
from providers.payouts.mpesa import MpesaPayouts

__all__ = ["MpesaPayouts", "PayoutProvider", "PayoutRequest"]
