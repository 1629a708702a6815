"""Who may call an operation: the Bearer access token resolved into a Caller, then the roles it needs."""

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from gateway.problems import Forbidden, Unauthenticated
from gateway.security.revocations import is_session_revoked
from gateway.security.tokens import TokenError, TokenExpired, TokenInvalid
from gateway.state import SERVICES

ROLES = frozenset({"guest", "agent", "admin", "scanner"})
ADMIN = "admin"
_BEARER = "bearer "


class TokenExpiredProblem(Unauthenticated):
    slug, title = "token-expired", "The access token has expired: refresh it"


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


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith(_BEARER) or not header[len(_BEARER) :].strip():
        raise Unauthenticated("send the access token as: Authorization: Bearer <token>")
    return header[len(_BEARER) :].strip()


async def authenticate(request: web.Request) -> Caller:
    """The caller of a request with a valid access token for a session that is still open; 401 otherwise."""
    try:
        claims = request.app[SERVICES].tokens.verify_access(bearer_token(request))
    except TokenExpired:
        raise TokenExpiredProblem() from None
    except TokenInvalid:
        raise Unauthenticated("the access token is not valid") from None
    if await is_session_revoked(request.app[SERVICES].redis, request.app[SERVICES].settings.redis, claims.session_id):
        raise Unauthenticated("this session has been signed out")
    return Caller(user_id=claims.user_id, roles=claims.roles, session_id=claims.session_id, auth_time=claims.auth_time)


@dataclass(frozen=True)
class BearerAccess:
    """Any signed-in user, or only those holding one of `roles` (admins pass every role check)."""

    roles: frozenset[str] = frozenset()
    openapi_security = [{"bearer": []}]

    @property
    def description(self) -> str:
        if not self.roles:
            return "any signed-in user (Bearer access token)"
        return f"signed-in users with role {' or '.join(sorted(self.roles | {ADMIN}))}"

    async def __call__(self, request: web.Request) -> Caller:
        caller = await authenticate(request)
        if self.roles and not (caller.is_admin or caller.roles & self.roles):
            raise Forbidden(f"needs role {' or '.join(sorted(self.roles | {ADMIN}))}")
        return caller


AUTHENTICATED = BearerAccess()


def roles(*names: str) -> BearerAccess:
    """Access for callers holding any of these roles."""
    unknown = set(names) - ROLES
    if not names or unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; choose from {sorted(ROLES)}")
    return BearerAccess(frozenset(names))


@dataclass(frozen=True)
class EnrolmentAccess:
    """A signed-in user, or one whose sign-in answered `mfa_enrolment_required` (Bearer MFA-enrolment token)."""

    openapi_security = [{"bearer": []}]
    description = "any signed-in user, or the MFA-enrolment token of a sign-in that needs two-factor first"

    async def __call__(self, request: web.Request) -> Caller:
        token = bearer_token(request)
        try:
            claims = request.app[SERVICES].tokens.verify_challenge(token, "mfa_enrolment")
        except TokenError:
            return await authenticate(request)
        return Caller(user_id=claims.user_id, roles=frozenset(), session_id="")


MFA_ENROLMENT = EnrolmentAccess()
