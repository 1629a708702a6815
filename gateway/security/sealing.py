"""Secrets kept in the database sealed with AES-256-GCM, each bound to the record it belongs to."""

import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from gateway.security.encoding import from_b64url

_NONCE_BYTES = 12


def sealing_key(configured: SecretStr | None, purpose: str) -> bytes:
    """The configured 32-byte key; with none (never in production), a fixed one that anyone reading this has."""
    if configured is None:
        return hashlib.sha256(f"lango development {purpose}".encode()).digest()
    return from_b64url(configured.get_secret_value())


def seal(key: bytes, plaintext: bytes, binding: bytes) -> bytes:
    """A random nonce, then the ciphertext and tag; opening it needs the same `binding`, so it cannot be moved."""
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, binding)


def unseal(key: bytes, sealed: bytes, binding: bytes) -> bytes:
    """The plaintext; raises cryptography's InvalidTag for another key, another binding or altered bytes."""
    return AESGCM(key).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], binding)
