"""Each event's Ed25519 key pairs: made with the event, the private half sealed with AES-256-GCM at rest."""

import base64
import functools
import hashlib
import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from documents.hosted_event import EventKey
from gateway.settings import TicketSettings

# Outside production, with no key configured: keys are still sealed, but with a key anyone can read here.
_DEVELOPMENT_KEY = hashlib.sha256(b"lango development ticket key sealing").digest()
_NONCE_BYTES = 12


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sealing_key(settings: TicketSettings) -> bytes:
    if settings.key_encryption_key is None:
        return _DEVELOPMENT_KEY
    return from_b64url(settings.key_encryption_key.get_secret_value())


def new_event_key(event_id: str, kid: int, sealing: bytes) -> EventKey:
    """A fresh key pair; the sealed private key is bound to its event and kid, so it cannot be moved to another."""
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    nonce = os.urandom(_NONCE_BYTES)
    sealed = nonce + AESGCM(sealing).encrypt(nonce, raw_private, _binding(event_id, kid))
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return EventKey(kid=kid, public_key=b64url(public), sealed_private_key=b64url(sealed))


@functools.lru_cache(maxsize=4096)
def private_key(event_id: str, kid: int, sealed_private_key: str, sealing: bytes) -> Ed25519PrivateKey:
    sealed = from_b64url(sealed_private_key)
    raw = AESGCM(sealing).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], _binding(event_id, kid))
    return Ed25519PrivateKey.from_private_bytes(raw)


@functools.lru_cache(maxsize=4096)
def public_key(encoded: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(from_b64url(encoded))


def _binding(event_id: str, kid: int) -> bytes:
    return f"lango-event-key:{event_id}:{kid}".encode()
