"""The outside world as the process holds it: adapters built from settings, opened at start-up, closed at shutdown."""
