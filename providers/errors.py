"""Errors raised by vendor adapters, grouped by what the caller can do about them."""


class ProviderError(Exception):
    """Root of every error an adapter raises; carries the vendor's name and raw reason."""

    def __init__(self, message: str, *, vendor: str = "", reason: str | None = None) -> None:
        super().__init__(message)
        self.vendor = vendor
        self.reason = reason


class VendorUnavailable(ProviderError):
    """Retry later: the vendor timed out, refused the connection or answered 5xx/429."""


class VendorRejected(ProviderError):
    """Tell the user: the vendor refused the request as invalid or declined it."""


class ProviderMisconfigured(ProviderError):
    """Fix the deployment: missing credentials, bad base URL, unknown provider name."""


class SignatureInvalid(ProviderError):
    """A webhook whose signature, secret or timestamp does not verify; answer 400."""
