"""Proof that whoever holds a session is its owner right now, asked before changes that could lock the owner out."""

from datetime import UTC, datetime, timedelta

from documents.user import User
from gateway.accounts.context import Accounts
from gateway.accounts.problems import ReauthenticationRequired, WrongPassword
from gateway.security.access import Caller


async def confirm_identity(accounts: Accounts, caller: Caller, user: User, password: str | None) -> None:
    """Pass for the MFA-enrolment token of a half-done sign-in (its first step checked the password), for the right
    password, or without one for a sign-in within `auth.recent_sign_in_s`; a stolen access token alone is refused."""
    if not caller.has_session:
        return
    if password is not None:
        # Wrong passwords count with failed sign-ins, so this cannot be used to guess the password instead.
        await accounts.limits.ensure_room("login_failures_per_account", str(user.id))
        if not await accounts.passwords.verify(password, user.password_hash):
            await accounts.limits.hit_quietly("login_failures_per_account", str(user.id))
            raise WrongPassword()
        return
    recent = timedelta(seconds=accounts.settings.auth.recent_sign_in_s)
    if caller.auth_time is None or datetime.now(UTC) - caller.auth_time > recent:
        raise ReauthenticationRequired()
