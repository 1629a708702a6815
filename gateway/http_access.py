"""Who may call an HTTP operation: a Bearer access token resolved into a Caller and the roles it needs, or an
integration's API key and the scope it needs. Route declarations name these as their `access`."""

from dataclasses import dataclass

from aiohttp import web

from documents.api_key import API_KEY_SCOPES, ApiKeyScope
from gateway.integrations.api_keys import SECRET_PREFIX, Integration, integration_for
from gateway.problems import Forbidden, Unauthenticated
from gateway.security.callers import ADMIN, ROLES, Caller
from gateway.security.revocations import is_session_revoked
from gateway.security.tokens import TokenError, TokenExpired, TokenInvalid
from gateway.services import Services
from gateway.state import SERVICES

_BEARER = "bearer "
API_KEY_HEADER = "X-API-Key"
OPENAPI_SECURITY_SCHEMES = {
    "apiKey": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER, "description": "An integration's API key (lk_…)"},
    "apiKeyBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "lk_ API key"},
}


class TokenExpiredProblem(Unauthenticated):
    slug, title = "token-expired", "The access token has expired: refresh it"


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith(_BEARER) or not header[len(_BEARER) :].strip():
        raise Unauthenticated("send the access token as: Authorization: Bearer <token>")
    return header[len(_BEARER) :].strip()


async def authenticate(request: web.Request) -> Caller:
    """The caller of a request with a valid access token for a session that is still open; 401 otherwise."""
    return await caller_of_access_token(request.app[SERVICES], bearer_token(request))


async def caller_of_access_token(services: Services, token: str) -> Caller:
    """The caller an access token speaks for, while its session is open; 401 otherwise. The API's bearer tokens and
    the console's session cookie both end here."""
    try:
        claims = services.tokens.verify_access(token)
    except TokenExpired:
        raise TokenExpiredProblem() from None
    except TokenInvalid:
        raise Unauthenticated("the access token is not valid") from None
    if await is_session_revoked(services.redis, services.settings.redis, claims.session_id):
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
        return self.admit(await authenticate(request))

    def admit(self, caller: Caller) -> Caller:
        """The caller, when it holds one of the roles; 403 otherwise."""
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


def presented_secret(request: web.Request) -> str:
    """The key from `X-API-Key`, or from `Authorization: Bearer lk_…`; 401 when there is none."""
    if API_KEY_HEADER in request.headers:
        return request.headers[API_KEY_HEADER].strip()
    header = request.headers.get("Authorization", "")
    token = header[len(_BEARER) :].strip() if header.lower().startswith(_BEARER) else ""
    if not token.startswith(SECRET_PREFIX):
        raise Unauthenticated(f"send the API key as {API_KEY_HEADER}: lk_… or Authorization: Bearer lk_…")
    return token


@dataclass(frozen=True)
class ApiKeyAccess:
    """Integrations whose live key carries `scope`."""

    scope: ApiKeyScope
    openapi_security = [{"apiKey": []}, {"apiKeyBearer": []}]

    @property
    def description(self) -> str:
        return f"an integration's API key with scope {self.scope}"

    async def __call__(self, request: web.Request) -> Integration:
        return await integration_for(request.app[SERVICES], presented_secret(request), self.scope)


def api_key(scope: ApiKeyScope) -> ApiKeyAccess:
    """Access for integrations holding a key with this scope."""
    if scope not in API_KEY_SCOPES:
        raise ValueError(f"unknown scope {scope!r}; choose from {API_KEY_SCOPES}")
    return ApiKeyAccess(scope)
