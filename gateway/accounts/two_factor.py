"""TOTP two-factor authentication: enrolment with a QR code, backup codes, the second factor, turning it off."""

import asyncio
import base64
import hashlib
import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import pyotp
import qrcode
from beanie import PydanticObjectId
from bson import ObjectId
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from documents.audit import AuditEvent, AuditKind
from documents.user import User
from gateway.accounts.context import requires_mfa
from gateway.accounts.problems import (
    MfaAlreadyEnabled,
    MfaEnrolmentNotStarted,
    MfaInvalid,
    MfaNotEnabled,
    MfaRequiredForRole,
    OwnTwoFactorReset,
    WrongPassword,
)
from gateway.accounts.sessions import revoke_other_sessions
from gateway.crypto.encoding import b64url, from_b64url
from gateway.crypto.sealing import SealingKeys
from gateway.notifications.security_alerts import SecurityChange, alert_owner
from gateway.problems import NotFound
from gateway.security.callers import Caller
from gateway.services import Services

ISSUER_NAME = "Lango"
BACKUP_CODE_COUNT = 10
# 80 random bits each, shown as four groups of four base32 characters.
BACKUP_CODE_BYTES = 10
# Marks a code's digest keyed with a sealing key, beside the unkeyed SHA-256 hex of older codes.
BACKUP_CODE_HASH_PREFIX = "k1:"
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


def _normalised(code: str) -> str:
    return code.replace("-", "").replace(" ", "").lower()


def _backup_code_key(sealing_key: bytes, user_id: ObjectId | None) -> bytes:
    """A key of the account's own, derived from a TOTP sealing key: a code's digest is useless without both."""
    info = f"lango-backup-codes:{user_id}".encode()
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=info).derive(sealing_key)


def _backup_code_hash(sealing_key: bytes, user_id: ObjectId | None, code: str) -> str:
    digest = hmac.new(_backup_code_key(sealing_key, user_id), _normalised(code).encode(), hashlib.sha256).hexdigest()
    return BACKUP_CODE_HASH_PREFIX + digest


def _backup_code_forms(keys: SealingKeys, user_id: ObjectId | None, code: str) -> list[str]:
    """Every form a stored backup code may have: keyed with the current or a previous sealing key, or the unkeyed
    SHA-256 of codes made before codes were keyed, which stay usable until spent."""
    keyed = [_backup_code_hash(key, user_id, code) for key in (keys.current, *keys.previous)]
    return [*keyed, hashlib.sha256(_normalised(code).encode()).hexdigest()]


def _new_backup_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(BACKUP_CODE_BYTES)).decode().lower()
    return "-".join(raw[start : start + 4] for start in range(0, len(raw), 4))


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


async def begin_enrolment(services: Services, user: User) -> Enrolment:
    """A new pending secret, its otpauth:// URI and a QR code of it; 2FA is on only once a code confirms it."""
    if user.mfa_enabled:
        raise MfaAlreadyEnabled()
    secret = pyotp.random_base32()
    if not await user.begin_totp_enrolment(seal_totp_secret(services.totp_keys, user.id, secret)):
        raise MfaAlreadyEnabled()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email or user.phone or str(user.id), issuer_name=ISSUER_NAME)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_png_data_url=await asyncio.to_thread(_qr_png_data_url, uri))


async def confirm_enrolment(services: Services, user: User, code: str) -> list[str]:
    """Turn 2FA on with the first code from the app; answers the backup codes, shown this once."""
    await services.limits.hit("otp_checks_per_account", str(user.id))
    if user.mfa_enabled:
        raise MfaAlreadyEnabled()
    pending = user.totp_pending_secret
    if pending is None:
        raise MfaEnrolmentNotStarted()
    step = _matching_step(open_totp_secret(services.totp_keys, user.id, pending).secret, code)
    if step is None:
        raise MfaInvalid()
    backup_codes = [_new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    hashes = [_backup_code_hash(services.totp_keys.current, user.id, code) for code in backup_codes]
    if not await user.confirm_totp(pending, step, hashes):
        raise MfaEnrolmentNotStarted("the enrolment changed meanwhile: start again")
    await AuditEvent.record(AuditKind.MFA_ENABLED, user_id=user.id)
    return backup_codes


async def verify_second_factor(
    services: Services, user: User, *, code: str | None, backup_code: str | None
) -> SecondFactor | None:
    """Accept a TOTP code (each time step once) or spend a backup code; None when neither is right."""
    if user.totp_secret is None:
        return None
    if code:
        stored = open_totp_secret(services.totp_keys, user.id, user.totp_secret)
        step = _matching_step(stored.secret, code)
        if step is not None and await user.consume_totp_step(step):
            if stored.outdated:
                sealed = seal_totp_secret(services.totp_keys, user.id, stored.secret)
                await user.replace_totp_secret(user.totp_secret, sealed)
            return "totp"
        return None
    if backup_code and await user.consume_backup_code(_backup_code_forms(services.totp_keys, user.id, backup_code)):
        return "backup_code"
    return None


async def disable(services: Services, user: User, *, password: str, code: str | None, backup_code: str | None) -> bool:
    """Turn 2FA off with the password and a second factor; refused for roles that need it. False when a concurrent
    request turned it off first."""
    if not user.mfa_enabled:
        raise MfaNotEnabled()
    await services.limits.hit("otp_checks_per_account", str(user.id))
    if not await services.passwords.verify(password, user.password_hash):
        raise WrongPassword()
    if await verify_second_factor(services, user, code=code, backup_code=backup_code) is None:
        raise MfaInvalid()
    if requires_mfa(services.settings, user):
        raise MfaRequiredForRole()
    if not await user.disable_totp():
        return False
    await AuditEvent.record(AuditKind.MFA_DISABLED, user_id=user.id)
    return True


async def reset_by_admin(services: Services, admin: Caller, user_id: str, reason: str) -> User:
    """Turn off the two-factor of an owner who lost both the phone and the backup codes, sign them out everywhere and
    alert them on every channel.

    The recovery path of a locked-out owner (or one locked out by whoever turned it on with a stolen session): the
    admin checked who they are by other means and says why; the audit log keeps who did it and the reason."""
    if not PydanticObjectId.is_valid(user_id):
        raise NotFound("no such user")
    if user_id == admin.user_id:
        raise OwnTwoFactorReset()
    user = await User.get(PydanticObjectId(user_id))
    if user is None:
        raise NotFound("no such user")
    if not await user.disable_totp():
        raise MfaNotEnabled()
    await revoke_other_sessions(services, user.id, keep=None, because="mfa_reset")  # type: ignore[arg-type]
    await AuditEvent.record(
        AuditKind.MFA_RESET, user_id=user.id, actor_id=PydanticObjectId(admin.user_id), reason=reason
    )
    await alert_owner(services, str(user.id), SecurityChange.MFA_RESET)
    return await User.get(user.id) or user
