"""TOTP two-factor authentication: enrolment with a QR code, backup codes, the second factor, turning it off."""

import asyncio
import base64
import hashlib
import io
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import pyotp
import qrcode
from bson import ObjectId
from cryptography.exceptions import InvalidTag

from documents.audit import AuditEvent, AuditKind
from documents.user import User
from gateway.accounts.context import Accounts
from gateway.accounts.problems import (
    MfaAlreadyEnabled,
    MfaEnrolmentNotStarted,
    MfaInvalid,
    MfaNotEnabled,
    MfaRequiredForRole,
    WrongPassword,
)
from gateway.security.encoding import b64url, from_b64url
from gateway.security.sealing import SealingKeys

ISSUER_NAME = "Lango"
BACKUP_CODE_COUNT = 10
# One step either side of now: phones whose clocks drift by up to 30 s still get in.
_STEP_WINDOW = (-1, 0, 1)
SecondFactor = Literal["totp", "backup_code"]
# A secret stored before secrets were sealed, or by a node of the previous release during a rolling deploy, is
# pyotp's base32, which no sealed value is; `lango migrate` seals those there were, the next sign-in the others.
PLAINTEXT_SECRET = re.compile(r"^[A-Z2-7]+=*$")


@dataclass(frozen=True)
class StoredSecret:
    secret: str
    # Plaintext, or sealed with a previous key: seal it with the current one.
    outdated: bool


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_png_data_url: str


def _backup_code_hash(code: str) -> str:
    normalised = code.replace("-", "").replace(" ", "").lower()
    return hashlib.sha256(normalised.encode()).hexdigest()


def _new_backup_code() -> str:
    raw = secrets.token_hex(5)
    return f"{raw[:5]}-{raw[5:]}"


def _totp_binding(user_id: ObjectId | None) -> bytes:
    return f"lango-totp:{user_id}".encode()


def seal_totp_secret(keys: SealingKeys, user_id: ObjectId | None, secret: str) -> str:
    """The secret as the database keeps it: sealed, and bound to this account so it cannot be copied to another."""
    return b64url(keys.seal(secret.encode(), _totp_binding(user_id)))


def open_totp_secret(keys: SealingKeys, user_id: ObjectId | None, stored: str) -> StoredSecret:
    if PLAINTEXT_SECRET.match(stored):
        return StoredSecret(stored, outdated=True)
    try:
        opened = keys.unseal(from_b64url(stored), _totp_binding(user_id))
    except (InvalidTag, ValueError):
        raise RuntimeError(
            f"the TOTP secret of user {user_id} opens with no configured auth.totp_encryption_key or previous key"
        ) from None
    return StoredSecret(opened.plaintext.decode(), outdated=opened.stale)


def _matching_step(secret: str, code: str) -> int | None:
    """The TOTP time step `code` belongs to, if it belongs to one near now."""
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(datetime.now(UTC))
    for offset in _STEP_WINDOW:
        step = now_step + offset
        if secrets.compare_digest(totp.generate_otp(step), code.strip()):
            return step
    return None


def _qr_png_data_url(uri: str) -> str:
    buffer = io.BytesIO()
    qrcode.make(uri).save(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


async def begin_enrolment(accounts: Accounts, user: User) -> Enrolment:
    """A new pending secret, its otpauth:// URI and a QR code of it; 2FA is on only once a code confirms it."""
    if user.mfa_enabled:
        raise MfaAlreadyEnabled()
    secret = pyotp.random_base32()
    if not await user.begin_totp_enrolment(seal_totp_secret(accounts.totp_keys, user.id, secret)):
        raise MfaAlreadyEnabled()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email or user.phone or str(user.id), issuer_name=ISSUER_NAME)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_png_data_url=await asyncio.to_thread(_qr_png_data_url, uri))


async def confirm_enrolment(accounts: Accounts, user: User, code: str) -> list[str]:
    """Turn 2FA on with the first code from the app; answers the backup codes, shown this once."""
    await accounts.limits.hit("otp_checks_per_account", str(user.id))
    if user.mfa_enabled:
        raise MfaAlreadyEnabled()
    pending = user.totp_pending_secret
    if pending is None:
        raise MfaEnrolmentNotStarted()
    step = _matching_step(open_totp_secret(accounts.totp_keys, user.id, pending).secret, code)
    if step is None:
        raise MfaInvalid()
    backup_codes = [_new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    if not await user.confirm_totp(pending, step, [_backup_code_hash(code) for code in backup_codes]):
        raise MfaEnrolmentNotStarted("the enrolment changed meanwhile: start again")
    await AuditEvent.record(AuditKind.MFA_ENABLED, user_id=user.id)
    return backup_codes


async def verify_second_factor(
    accounts: Accounts, user: User, *, code: str | None, backup_code: str | None
) -> SecondFactor | None:
    """Accept a TOTP code (each time step once) or spend a backup code; None when neither is right."""
    if user.totp_secret is None:
        return None
    if code:
        stored = open_totp_secret(accounts.totp_keys, user.id, user.totp_secret)
        step = _matching_step(stored.secret, code)
        if step is not None and await user.consume_totp_step(step):
            if stored.outdated:
                sealed = seal_totp_secret(accounts.totp_keys, user.id, stored.secret)
                await user.replace_totp_secret(user.totp_secret, sealed)
            return "totp"
        return None
    if backup_code and await user.consume_backup_code(_backup_code_hash(backup_code)):
        return "backup_code"
    return None


async def disable(accounts: Accounts, user: User, *, password: str, code: str | None, backup_code: str | None) -> None:
    """Turn 2FA off with the password and a second factor; refused for roles that need it."""
    if not user.mfa_enabled:
        raise MfaNotEnabled()
    await accounts.limits.hit("otp_checks_per_account", str(user.id))
    if not await accounts.passwords.verify(password, user.password_hash):
        raise WrongPassword()
    if await verify_second_factor(accounts, user, code=code, backup_code=backup_code) is None:
        raise MfaInvalid()
    if accounts.requires_mfa(user):
        raise MfaRequiredForRole()
    if await user.disable_totp():
        await AuditEvent.record(AuditKind.MFA_DISABLED, user_id=user.id)
