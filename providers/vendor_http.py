"""Calls to a vendor's HTTP API through an injected httpx client, failures translated to ProviderErrors."""

from typing import Any

import httpx

from providers.errors import ProviderMisconfigured, VendorRejected, VendorUnavailable

_REASON_LIMIT = 500


def vendor_reason(response: httpx.Response) -> str:
    """The start of a vendor's answer, enough to tell what went wrong without flooding the logs."""
    return response.text[:_REASON_LIMIT]


async def call_vendor(client: httpx.AsyncClient, vendor: str, method: str, url: str, **request: Any) -> httpx.Response:
    """Send one request; a 2xx answer comes back, anything else raises the error that says what to do."""
    try:
        response = await client.request(method, url, **request)
    except httpx.TimeoutException as error:
        raise VendorUnavailable(f"{vendor} timed out", vendor=vendor, reason=repr(error)) from error
    except httpx.RequestError as error:
        raise VendorUnavailable(f"{vendor} unreachable", vendor=vendor, reason=repr(error)) from error
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as error:
        status = response.status_code
        if status == 429 or status >= 500:
            raise VendorUnavailable(
                f"{vendor} answered {status}", vendor=vendor, reason=vendor_reason(response)
            ) from error
        # Bad keys, unverified senders and redirects to another host all need the deployment fixed.
        if status in (401, 403) or status < 400:
            raise ProviderMisconfigured(
                f"{vendor} refused our credentials or endpoint ({status})",
                vendor=vendor,
                reason=vendor_reason(response),
            ) from error
        raise VendorRejected(
            f"{vendor} rejected the message ({status})", vendor=vendor, reason=vendor_reason(response)
        ) from error
    return response


def json_body(response: httpx.Response, vendor: str) -> Any:
    """The JSON of a 2xx answer; anything else there came from something in the way, worth a retry."""
    try:
        return response.json()
    except ValueError as error:
        raise VendorUnavailable(
            f"{vendor} answered {response.status_code} without JSON", vendor=vendor, reason=vendor_reason(response)
        ) from error
