"""Bookings: holding nights, confirming, cancelling and expiring stays, and agents' blocked dates."""
