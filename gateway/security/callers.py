"""Who is calling: the signed-in user a flow acts for, and the roles there are."""

from dataclasses import dataclass
from datetime import datetime

from gateway.problems import Forbidden

ROLES = frozenset({"guest", "agent", "admin", "scanner"})
ADMIN = "admin"


@dataclass(frozen=True)
class Caller:
    """The signed-in user behind a request."""

    user_id: str
    roles: frozenset[str]
    session_id: str
    # When the person last proved who they are (the access token's auth_time); None when unknown.
    auth_time: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def has_session(self) -> bool:
        """False for a user half-way through sign-in who may only turn on two-factor authentication."""
        return bool(self.session_id)


def require_admin(caller: Caller, refusal: str) -> None:
    """403 saying `refusal` unless the caller is an admin."""
    if not caller.is_admin:
        raise Forbidden(refusal)
