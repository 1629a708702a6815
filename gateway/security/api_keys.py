"""API keys of server-to-server integrations: secrets made and hashed, and the access check that needs a scope.

A key is `lk_` and 43 characters of a 256-bit random secret. It is stored as its SHA-256 digest, not bcrypt:
bcrypt's cost exists to slow the guessing of low-entropy passwords, and nothing guesses 2^256 secrets; a plain
digest lets a request find its key with one indexed lookup instead of checking a slow hash per stored key.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from beanie import PydanticObjectId

from documents.api_key import API_KEY_SCOPES, ApiKey, ApiKeyScope
from documents.user import User
from gateway.problems import Forbidden, Unauthenticated
from gateway.security.access import Caller
from gateway.services import Services
from gateway.state import SERVICES

SECRET_PREFIX = "lk_"
SECRET_BYTES = 32
HINT_LENGTH = len(SECRET_PREFIX) + 6
API_KEY_HEADER = "X-API-Key"
_BEARER = "bearer "
OPENAPI_SECURITY_SCHEMES = {
    "apiKey": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER, "description": "An integration's API key (lk_…)"},
    "apiKeyBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "lk_ API key"},
}


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_hint(secret: str) -> str:
    return secret[:HINT_LENGTH]


def api_key_now(services: Services) -> datetime:
    return services.clock()


@dataclass(frozen=True)
class Integration:
    """The integration behind a request: its key and the agent it acts for."""

    key_id: str
    name: str
    agent_id: str
    scopes: frozenset[str]

    def as_agent(self) -> Caller:
        """The agent this key acts for, as the listing and booking reads expect a caller (no session)."""
        return Caller(user_id=self.agent_id, roles=frozenset({"agent"}), session_id="")


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
        presented = secret_hash(presented_secret(request))
        key = await ApiKey.holding(presented)
        if key is None or not key.accepts(presented, api_key_now(request.app[SERVICES])):
            raise Unauthenticated("the API key is unknown, revoked, expired or replaced")
        # Removing the agent role revokes the keys too; this covers a key made while the role was being removed.
        agent = await User.get(PydanticObjectId(key.agent_id))
        if agent is None or "agent" not in agent.roles:
            raise Unauthenticated("the API key's account is no longer an agent")
        limit = request.app[SERVICES].settings.rate_limits.api_key_requests
        await request.app[SERVICES].limits.hit("api_key_requests", str(key.id), refusal=f"this API key may make {limit} requests")
        if self.scope not in key.scopes:
            raise Forbidden(f"this API key lacks scope {self.scope}")
        return Integration(key_id=str(key.id), name=key.name, agent_id=key.agent_id, scopes=frozenset(key.scopes))


def api_key(scope: ApiKeyScope) -> ApiKeyAccess:
    """Access for integrations holding a key with this scope."""
    if scope not in API_KEY_SCOPES:
        raise ValueError(f"unknown scope {scope!r}; choose from {API_KEY_SCOPES}")
    return ApiKeyAccess(scope)
