"""Adapters to the outside world: one per vendor, behind a small interface per capability."""

from providers.errors import ProviderError, ProviderMisconfigured, SignatureInvalid, VendorRejected, VendorUnavailable

__all__ = [
    "ProviderError",
    "ProviderMisconfigured",
    "SignatureInvalid",
    "VendorRejected",
    "VendorUnavailable",
]
