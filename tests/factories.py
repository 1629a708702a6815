"""Builders other test suites share: accounts in the database, access tokens for them, settings with a change."""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from aiohttp import web

from documents.user import User
from gateway.accounts.identifiers import normalise_phone
from gateway.security.passwords import PasswordHasher
from gateway.services import Services
from gateway.settings import Settings
from gateway.state import SERVICES

DEFAULT_PASSWORD = "correct horse battery staple"


def services_of(app: web.Application | Services) -> Services:
    """A started application's Services, or the Services a test built itself."""
    return app if isinstance(app, Services) else app[SERVICES]


async def create_user(
    app: web.Application | Services,
    *,
    email: str | None = None,
    phone: str | None = None,
    password: str = DEFAULT_PASSWORD,
    roles: Iterable[str] = ("guest",),
    verified: bool = True,
) -> User:
    """A stored account (phone normalised like sign-up does); with neither email nor phone, a unique email is made up."""
    if email is None and phone is None:
        email = f"user-{uuid.uuid4().hex[:12]}@example.com"
    verified_at = datetime.now(UTC) if verified else None
    user = User(
        email=email.lower() if email else None,
        phone=normalise_phone(phone) if phone else None,
        email_verified_at=verified_at if email else None,
        phone_verified_at=verified_at if phone else None,
        password_hash=await PasswordHasher(services_of(app).settings.auth.bcrypt_cost).hash(password),
        roles=list(roles),
    )
    await user.insert()
    return user


def access_token_for(app: web.Application | Services, user: User, *, session_id: str | None = None) -> str:
    """An access token for `user`, minted by the app's own TokenService."""
    return services_of(app).tokens.issue_access(str(user.id), user.roles, session_id or f"test-{uuid.uuid4().hex}")


def auth_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def settings_with(settings: Settings, section: str, **values: object) -> Settings:
    """`settings` with some keys of one section replaced; unvalidated, so values are given as the model holds them."""
    return settings.model_copy(update={section: getattr(settings, section).model_copy(update=values)})


class Clock:
    """A clock tests move by hand: pass it to create_app(clock=...) and set `now`."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now
