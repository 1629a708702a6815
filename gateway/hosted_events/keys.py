"""Each event's Ed25519 key pairs: made with the event, the private half sealed with AES-256-GCM at rest."""

import functools

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from documents.hosted_event import EventKey
from gateway.crypto.encoding import b64url, from_b64url
from gateway.crypto.sealing import Opened, SealingKeys, sealing_keys
from gateway.settings import TicketSettings


def ticket_sealing_keys(settings: TicketSettings) -> SealingKeys:
    return sealing_keys(settings.key_encryption_key, settings.previous_key_encryption_keys, "ticket key sealing")


def new_event_key(event_id: str, kid: int, sealing: SealingKeys) -> EventKey:
    """A fresh key pair; the sealed private key is bound to its event and kid, so it cannot be moved to another."""
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    sealed = sealing.seal(raw_private, _binding(event_id, kid))
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return EventKey(kid=kid, public_key=b64url(public), sealed_private_key=b64url(sealed))


def open_private_key(event_id: str, kid: int, sealed_private_key: str, sealing: SealingKeys) -> Opened:
    return sealing.unseal(from_b64url(sealed_private_key), _binding(event_id, kid))


def reseal_private_key(event_id: str, kid: int, raw_private: bytes, sealing: SealingKeys) -> str:
    return b64url(sealing.seal(raw_private, _binding(event_id, kid)))


@functools.lru_cache(maxsize=4096)
def private_key(event_id: str, kid: int, sealed_private_key: str, sealing: SealingKeys) -> Ed25519PrivateKey:
    raw = open_private_key(event_id, kid, sealed_private_key, sealing).plaintext
    return Ed25519PrivateKey.from_private_bytes(raw)


@functools.lru_cache(maxsize=4096)
def public_key(encoded: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(from_b64url(encoded))


def _binding(event_id: str, kid: int) -> bytes:
    return f"lango-event-key:{event_id}:{kid}".encode()
