"""Ed25519 signing keys: parsed from the environment, rotated by kid, published as a JWKS."""

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.crypto.encoding import b64url

RAW_KEY_BYTES = 32


class KeyRingError(Exception):
    """The configured signing keys cannot be used; the message says why, never the key."""


@dataclass(frozen=True)
class KeyRing:
    """The key that signs (the first configured), every key that still verifies, and the retired kids."""

    signing_kid: str
    signing_key: Ed25519PrivateKey
    verifying_keys: dict[str, Ed25519PublicKey]
    retired: frozenset[str]

    def verifying_key(self, kid: str) -> Ed25519PublicKey | None:
        if kid in self.retired:
            return None
        return self.verifying_keys.get(kid)

    def jwks(self) -> dict[str, Any]:
        """The public half of every key that still verifies (RFC 8037 OKP keys)."""
        return {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "alg": "EdDSA",
                    "use": "sig",
                    "kid": kid,
                    "x": b64url(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)),
                }
                for kid, key in self.verifying_keys.items()
                if kid not in self.retired
            ]
        }


def parse_key_ring(text: str) -> KeyRing:
    """Parse `{"keys": [{"kid", "private_key" | "public_key"}, …], "retired": [kid, …]}` or a bare list of keys."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise KeyRingError("not JSON; expected {\"keys\": [...], \"retired\": [...]}") from None
    if isinstance(document, list):
        document = {"keys": document}
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list) or not document["keys"]:
        raise KeyRingError("expected a non-empty \"keys\" list")
    retired = document.get("retired", [])
    if not isinstance(retired, list) or not all(isinstance(kid, str) for kid in retired):
        raise KeyRingError("\"retired\" must be a list of kids")
    signing: tuple[str, Ed25519PrivateKey] | None = None
    verifying: dict[str, Ed25519PublicKey] = {}
    for position, entry in enumerate(document["keys"]):
        kid, private_key, public_key = _parse_entry(entry, position)
        if kid in verifying:
            raise KeyRingError(f"kid {kid!r} appears twice")
        verifying[kid] = public_key
        if signing is None and private_key is not None and kid not in retired:
            signing = (kid, private_key)
    if signing is None:
        raise KeyRingError("no key that is not retired has a private_key to sign with")
    return KeyRing(signing[0], signing[1], verifying, frozenset(retired))


def _parse_entry(entry: Any, position: int) -> tuple[str, Ed25519PrivateKey | None, Ed25519PublicKey]:
    if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str) or not entry["kid"]:
        raise KeyRingError(f"keys[{position}] needs a \"kid\"")
    kid = entry["kid"]
    if isinstance(entry.get("private_key"), str):
        private_key = _load_private(entry["private_key"], kid)
        return kid, private_key, private_key.public_key()
    if isinstance(entry.get("public_key"), str):
        return kid, None, _load_public(entry["public_key"], kid)
    raise KeyRingError(f"key {kid!r} needs a \"private_key\" or a \"public_key\"")


def _load_private(text: str, kid: str) -> Ed25519PrivateKey:
    try:
        if text.lstrip().startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise KeyRingError(f"key {kid!r} is not an Ed25519 key")
            return key
        return Ed25519PrivateKey.from_private_bytes(_raw_bytes(text, kid))
    except (ValueError, TypeError):
        raise KeyRingError(f"key {kid!r} is not a valid Ed25519 private key") from None


def _load_public(text: str, kid: str) -> Ed25519PublicKey:
    try:
        if text.lstrip().startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise KeyRingError(f"key {kid!r} is not an Ed25519 key")
            return key
        return Ed25519PublicKey.from_public_bytes(_raw_bytes(text, kid))
    except (ValueError, TypeError):
        raise KeyRingError(f"key {kid!r} is not a valid Ed25519 public key") from None


def _raw_bytes(text: str, kid: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().replace("+", "-").replace("/", "_") + "==")
    except (binascii.Error, ValueError):
        raise KeyRingError(f"key {kid!r} is neither PEM nor base64") from None
    if len(raw) != RAW_KEY_BYTES:
        raise KeyRingError(f"key {kid!r} must be {RAW_KEY_BYTES} bytes")
    return raw


def new_signing_key() -> dict[str, str]:
    """A fresh key entry: a dated kid and the base64url raw private key."""
    private_key = Ed25519PrivateKey.generate()
    raw = private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    kid = f"{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"
    return {"kid": kid, "private_key": b64url(raw)}


def ephemeral_signing_keys() -> str:
    """`auth.signing_keys` holding one fresh key, for when none is configured: tokens die with whoever holds it."""
    return json.dumps({"keys": [new_signing_key()]})


def ephemeral_key_ring() -> KeyRing:
    """A key that lives as long as the process: tokens die with it."""
    return parse_key_ring(ephemeral_signing_keys())
