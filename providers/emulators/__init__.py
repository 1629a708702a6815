"""Local emulators of vendor APIs that speak each vendor's wire format, for tests and the sandbox."""

from providers.emulators.runner import serve_emulator

__all__ = ["serve_emulator"]
