"""A ticket's QR code as PNG or SVG, drawn in a thread, and the signed link an email can show it through."""

import asyncio
import hashlib
import hmac
import io
from typing import Literal

import qrcode
import qrcode.image.svg

from documents.ticket import Ticket
from gateway.crypto.encoding import b64url
from gateway.hosted_events.keys import ticket_sealing_keys
from gateway.services import Services

QrFormat = Literal["png", "svg"]
CONTENT_TYPES: dict[QrFormat, str] = {"png": "image/png", "svg": "image/svg+xml"}


async def qr_image(secret: str, image_format: QrFormat) -> bytes:
    return await asyncio.to_thread(_draw, secret, image_format)


def _draw(secret: str, image_format: QrFormat) -> bytes:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(secret)
    code.make(fit=True)
    buffer = io.BytesIO()
    if image_format == "svg":
        code.make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    else:
        code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def _link_key(key_encryption_key: bytes, ticket: Ticket) -> str:
    message = f"ticket-qr:{ticket.id}:{ticket.secret_version}".encode()
    link_key = hashlib.sha256(b"lango-ticket-qr-links:" + key_encryption_key).digest()
    return b64url(hmac.new(link_key, message, hashlib.sha256).digest()[:18])


def qr_link_key(services: Services, ticket: Ticket) -> str:
    """Lets an email client fetch the QR code without a session; re-issuing the ticket changes it."""
    return _link_key(ticket_sealing_keys(services.settings.tickets).current, ticket)


def qr_link(services: Services, ticket: Ticket, image_format: QrFormat) -> str:
    base = services.settings.server.public_url.rstrip("/")
    return f"{base}/v1/tickets/{ticket.id}/qr.{image_format}?key={qr_link_key(services, ticket)}"


def qr_link_matches(services: Services, ticket: Ticket, key: str) -> bool:
    """Links emailed before a key rotation keep working while the previous key is configured."""
    keys = ticket_sealing_keys(services.settings.tickets)
    return any(hmac.compare_digest(_link_key(kek, ticket), key) for kek in (keys.current, *keys.previous))
