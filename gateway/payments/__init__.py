"""Payments: taking money for bookings and ticket orders, hearing back from vendors, reconciling and refunding."""
