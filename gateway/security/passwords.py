"""Passwords: bcrypt hashing off the event loop, a dummy hash for unknown accounts, and strength rules."""

import asyncio
import base64
import hashlib
import re
from functools import cache
from importlib import resources

import bcrypt

from gateway.problems import ValidationFailed

MAX_PASSWORD_CHARS = 256
_TRAILING_NOISE = re.compile(r"[\d\W_]+$")


class WeakPassword(ValidationFailed):
    slug, title = "weak-password", "Choose a stronger password"


def _prehash(password: str) -> bytes:
    # bcrypt reads only 72 bytes; a SHA-256 digest first lets every character of a long passphrase count.
    return base64.b64encode(hashlib.sha256(password.encode()).digest())


class PasswordHasher:
    """bcrypt at the configured cost, always run in a worker thread."""

    def __init__(self, cost: int) -> None:
        self.cost = cost
        self._dummy_hash: bytes | None = None

    async def hash(self, password: str) -> str:
        hashed = await asyncio.to_thread(bcrypt.hashpw, _prehash(password), bcrypt.gensalt(self.cost))
        return hashed.decode()

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """Check a password; with no hash (no such account) spend the same time and answer False."""
        if password_hash is None:
            await asyncio.to_thread(bcrypt.checkpw, _prehash(password), await self._dummy())
            return False
        return await asyncio.to_thread(bcrypt.checkpw, _prehash(password), password_hash.encode())

    def needs_rehash(self, password_hash: str) -> bool:
        return bcrypt_cost_of(password_hash) != self.cost

    async def _dummy(self) -> bytes:
        if self._dummy_hash is None:
            self._dummy_hash = (await self.hash("not the password of anyone")).encode()
        return self._dummy_hash


def bcrypt_cost_of(password_hash: str) -> int:
    return int(password_hash.split("$")[2])


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("gateway.security").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password_strength(password: str, *, min_length: int, personal: tuple[str | None, ...] = ()) -> None:
    """Refuse passwords that are short, common, repetitive, or built from the account's own email or phone."""
    reasons = []
    if len(password) < min_length:
        reasons.append(f"use at least {min_length} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        reasons.append(f"use at most {MAX_PASSWORD_CHARS} characters")
    lowered = password.lower()
    if lowered in _common_passwords() or _TRAILING_NOISE.sub("", lowered) in _common_passwords():
        reasons.append("this password is among the most common ones")
    if len(set(password)) < 4:
        reasons.append("use more than three different characters")
    for value in personal:
        fragment = (value or "").lower().split("@")[0].lstrip("+")
        if len(fragment) >= 4 and fragment in lowered:
            reasons.append("do not build the password from your email or phone")
            break
    if reasons:
        raise WeakPassword("; ".join(reasons), errors=[{"field": "body.password", "message": reason, "code": "weak_password"} for reason in reasons])
