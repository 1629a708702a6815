"""Proof that whoever holds a session is its owner right now, asked before changes that could lock the owner out."""

from datetime import UTC, datetime, timedelta

from documents.user import User
from gateway.accounts.problems import ReauthenticationRequired, WrongPassword
from gateway.security.callers import Caller
from gateway.services import Services


async def verify_current_password(services: Services, user: User, password: str) -> None:
    """WrongPassword unless `password` is the account's. Every check is counted first, in a budget apart from
    sign-ins, so concurrent guesses with a stolen access token cannot outrun it nor lock the owner out."""
    await services.limits.hit("login_failures_per_account", f"password-check:{user.id}")
    if not await services.passwords.verify(password, user.password_hash):
        raise WrongPassword()


async def confirm_identity(services: Services, caller: Caller, user: User, password: str | None) -> None:
    """Pass for the MFA-enrolment token of a half-done sign-in (its first step checked the password), for the right
    password, or without one for a sign-in within `auth.recent_sign_in_s`; a stolen access token alone is refused."""
    if not caller.has_session:
        return
    if password is not None:
        await verify_current_password(services, user, password)
        return
    recent = timedelta(seconds=services.settings.auth.recent_sign_in_s)
    if caller.auth_time is None or datetime.now(UTC) - caller.auth_time > recent:
        raise ReauthenticationRequired()
