"""The secret inside a ticket's QR code: a compact binary payload signed with the event's Ed25519 key.

Layout (big-endian): format (1 byte), ticket id, event id, ticket type id (12 bytes each, ObjectIds),
valid from, valid until (4 bytes each, Unix seconds), secret version (2), key id (2); then the 64-byte
signature over those 49 bytes; all of it base64url without padding (151 characters). A scanner checks it
offline with the event's public key from the scanner kit and its revocation list.
"""

import binascii
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from bson import ObjectId
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.crypto.encoding import b64url, from_b64url

SECRET_FORMAT = 1
_PAYLOAD = struct.Struct(">B12s12s12sIIHH")
_SIGNATURE_BYTES = 64
SECRET_LENGTH = len(b64url(bytes(_PAYLOAD.size + _SIGNATURE_BYTES)))


class InvalidSecret(Exception):
    """Not a ticket secret, or not signed by the key it names."""


@dataclass(frozen=True)
class TicketClaims:
    ticket_id: str
    event_id: str
    ticket_type_id: str
    valid_from: datetime
    valid_until: datetime
    version: int
    kid: int

    def valid_at(self, moment: datetime) -> bool:
        return self.valid_from <= moment <= self.valid_until


def sign_ticket_secret(claims: TicketClaims, key: Ed25519PrivateKey) -> str:
    payload = _PAYLOAD.pack(
        SECRET_FORMAT,
        ObjectId(claims.ticket_id).binary,
        ObjectId(claims.event_id).binary,
        ObjectId(claims.ticket_type_id).binary,
        int(claims.valid_from.timestamp()),
        int(claims.valid_until.timestamp()),
        claims.version,
        claims.kid,
    )
    return b64url(payload + key.sign(payload))


def read_ticket_secret(secret: str) -> tuple[TicketClaims, bytes, bytes]:
    """The claims of a well-formed secret, with the signed bytes and the signature, not yet verified."""
    if len(secret) != SECRET_LENGTH:
        raise InvalidSecret("not a ticket secret")
    try:
        raw = from_b64url(secret)
    except (binascii.Error, ValueError):
        raise InvalidSecret("not a ticket secret") from None
    payload, signature = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    form, ticket, event, ticket_type, valid_from, valid_until, version, kid = _PAYLOAD.unpack(payload)
    if form != SECRET_FORMAT:
        raise InvalidSecret(f"unknown secret format {form}")
    claims = TicketClaims(
        ticket_id=str(ObjectId(ticket)),
        event_id=str(ObjectId(event)),
        ticket_type_id=str(ObjectId(ticket_type)),
        valid_from=datetime.fromtimestamp(valid_from, UTC),
        valid_until=datetime.fromtimestamp(valid_until, UTC),
        version=version,
        kid=kid,
    )
    return claims, payload, signature


def verify_ticket_secret(secret: str, public_keys: Mapping[int, Ed25519PublicKey]) -> TicketClaims:
    """The claims of a secret signed by one of `public_keys` (by key id); InvalidSecret otherwise."""
    claims, payload, signature = read_ticket_secret(secret)
    key = public_keys.get(claims.kid)
    if key is None:
        raise InvalidSecret(f"no key {claims.kid} for this event")
    try:
        key.verify(signature, payload)
    except InvalidSignature:
        raise InvalidSecret("the signature does not match") from None
    return claims
