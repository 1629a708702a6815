"""Vendor notifications: verified, stored before the answer, applied right after it by a held background task."""

import ipaddress
from collections.abc import Mapping

from documents.payment_event import PaymentEvent
from gateway.logs import get_logger
from gateway.payments.paybill import ACCEPTED, INVALID_AMOUNT, confirm_paybill, validate_paybill
from gateway.payments.problems import WebhookNotVerified, WebhookSourceRefused
from gateway.payments.settle import apply_recorded_event, record_vendor_event
from gateway.problems import NotFound, ServiceUnavailable
from gateway.services import Services
from gateway.vendors.payments import PaymentVendors
from providers.errors import ProviderError, SignatureInvalid
from providers.payments import MpesaProvider
from providers.payments.mpesa_results import InitiatorResult, PaybillNotice

log = get_logger("lango.payments")


def check_mpesa_source(services: Services, remote: str | None) -> None:
    """Refuse a callback from outside `payments.mpesa.allowed_sources`, when that list is set; in sandbox the Daraja
    emulator calls back from loopback, which is then accepted too."""
    allowed = services.settings.payments.mpesa.allowed_sources
    if not allowed:
        return
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        raise WebhookSourceRefused() from None
    if address.is_loopback and services.payments.sandbox.daraja is not None:
        return
    if not any(address in ipaddress.ip_network(source, strict=False) for source in allowed):
        log.warning("M-Pesa callback from a source not allowed", remote=remote)
        raise WebhookSourceRefused()


async def receive_webhook(
    services: Services, vendor: str, headers: Mapping[str, str], raw_body: bytes, *, path_token: str | None = None
) -> None:
    """Verify and store what the vendor sent; applying it starts after this returns, so the vendor is answered at once.

    A notification that does not verify is refused (400) and stored nowhere; a vendor that cannot confirm a
    notification right now (PayPal's verification call) gets a 503 and sends it again later."""
    vendors: PaymentVendors = services.payments
    provider = vendors.providers.get(vendor)
    if provider is None:
        raise NotFound(f"{vendor} payments are not enabled")
    try:
        events = await provider.parse_webhook(headers, raw_body, path_token=path_token)
    except SignatureInvalid as error:
        log.warning("payment webhook refused", vendor=vendor, error=str(error))
        raise WebhookNotVerified() from None
    except ProviderError as error:
        log.warning("payment webhook not verified now", vendor=vendor, error=str(error))
        raise ServiceUnavailable("the notification could not be verified now; send it again") from None
    to_apply = []
    for event in events:
        stored, new = await record_vendor_event(event, "webhook")
        if new or stored.applied_at is None:
            to_apply.append(stored)
    if to_apply:
        vendors.run_after_answer(_apply_all(services, to_apply), name=f"payment-webhook-{vendor}")


async def _apply_all(services: Services, stored_events: list[PaymentEvent]) -> None:
    for stored in stored_events:
        try:
            await apply_recorded_event(services, stored)
        except Exception:
            # The statement is stored; the reconciliation job applies what is left unapplied.
            log.exception("applying a stored payment statement failed", event_id=str(stored.id))


def _mpesa(services: Services) -> MpesaProvider:
    provider = services.payments.mpesa
    if provider is None:
        raise NotFound("mpesa payments are not enabled")
    return provider


def parse_initiator_result(services: Services, raw_body: bytes, path_token: str, *, timed_out: bool) -> InitiatorResult:
    """A Daraja Result (B2C, transaction status, reversal) or queue timeout, verified by its path token."""
    try:
        return _mpesa(services).parse_initiator_result(raw_body, path_token=path_token, timed_out=timed_out)
    except SignatureInvalid as error:
        log.warning("Daraja Result refused", error=str(error))
        raise WebhookNotVerified() from None


def _paybill_notice(services: Services, raw_body: bytes, path_token: str) -> PaybillNotice | None:
    try:
        return _mpesa(services).parse_paybill(raw_body, path_token=path_token)
    except SignatureInvalid as error:
        log.warning("Paybill notification refused", error=str(error))
        raise WebhookNotVerified() from None


async def answer_paybill_validation(services: Services, raw_body: bytes, path_token: str) -> dict[str, str]:
    """Safaricom's C2B validation answer: take the money only for a payable reference and its exact amount."""
    notice = _paybill_notice(services, raw_body, path_token)
    code = await validate_paybill(services, notice) if notice is not None else INVALID_AMOUNT
    if code != ACCEPTED:
        log.info("Paybill payment refused at validation", code=code, trans_id=notice.trans_id if notice else None)
    return {"ResultCode": code, "ResultDesc": "Accepted" if code == ACCEPTED else "Rejected"}


async def receive_paybill_confirmation(services: Services, raw_body: bytes, path_token: str) -> None:
    """Record and match a confirmed Paybill payment (exactly once per TransID)."""
    notice = _paybill_notice(services, raw_body, path_token)
    if notice is None:
        # Money was taken but its amount cannot be read: refused, so Safaricom retries and the logs show it.
        log.error("Paybill confirmation with an unreadable amount")
        raise WebhookNotVerified()
    await confirm_paybill(services, notice)
