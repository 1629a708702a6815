"""Hosted events: agents create and publish events and their ticket types, and assign door staff."""
