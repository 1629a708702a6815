"""Paying hosts and agents what they earned: their payout destination, payouts over M-Pesa B2C, and their results."""
