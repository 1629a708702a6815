"""Secrets kept in the database sealed with AES-256-GCM, each bound to the record it belongs to; keys rotate."""

import hashlib
import os
from dataclasses import dataclass
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from gateway.crypto.encoding import from_b64url

_NONCE_BYTES = 12


class Opened(NamedTuple):
    plaintext: bytes
    # Opened by a previous key: seal it again with the current one (`lango migrate` does, for every record).
    stale: bool


@dataclass(frozen=True)
class SealingKeys:
    """The key that seals, then earlier keys that still open what they sealed, kept until all is sealed again."""

    current: bytes
    previous: tuple[bytes, ...] = ()

    def seal(self, plaintext: bytes, binding: bytes) -> bytes:
        """A random nonce, then the ciphertext and tag; opening it needs the same `binding`, so it cannot be moved."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self.current).encrypt(nonce, plaintext, binding)

    def unseal(self, sealed: bytes, binding: bytes) -> Opened:
        """Raises cryptography's InvalidTag when no key opens it: another binding, altered bytes, a dropped key."""
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        for key in (self.current, *self.previous):
            try:
                return Opened(AESGCM(key).decrypt(nonce, ciphertext, binding), stale=key != self.current)
            except InvalidTag:
                continue
        raise InvalidTag()


def sealing_keys(current: SecretStr | None, previous: list[SecretStr], purpose: str) -> SealingKeys:
    """The configured keys; with none (never in production), a fixed one that anyone reading this has."""
    if current is None:
        return SealingKeys(hashlib.sha256(f"lango development {purpose}".encode()).digest())
    return SealingKeys(
        from_b64url(current.get_secret_value()), tuple(from_b64url(key.get_secret_value()) for key in previous)
    )
