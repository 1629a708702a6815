"""API keys of server-to-server integrations: secrets made and hashed, and the integration a presented key stands for.

A key is `lk_` and 43 characters of a 256-bit random secret. It is stored as its SHA-256 digest, not bcrypt:
bcrypt's cost exists to slow the guessing of low-entropy passwords, and nothing guesses 2^256 secrets; a plain
digest lets a request find its key with one indexed lookup instead of checking a slow hash per stored key.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from beanie import PydanticObjectId

from documents.api_key import ApiKey, ApiKeyScope
from documents.user import User
from gateway.problems import Forbidden, Unauthenticated
from gateway.security.callers import Caller
from gateway.services import Services

SECRET_PREFIX = "lk_"
SECRET_BYTES = 32
HINT_LENGTH = len(SECRET_PREFIX) + 6


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


async def integration_for(services: Services, presented: str, scope: ApiKeyScope) -> Integration:
    """The integration whose live key is `presented`, if that key carries `scope`: 401 for a key unknown, revoked,
    expired or replaced, or whose account is no longer an agent or is locked; 429 past `rate_limits.api_key_requests`; 403 for a
    missing scope."""
    digest = secret_hash(presented)
    key = await ApiKey.holding(digest)
    if key is None or not key.accepts(digest, api_key_now(services)):
        raise Unauthenticated("the API key is unknown, revoked, expired or replaced")
    # Removing the agent role revokes the keys too; this covers a key made while the role was being removed.
    agent = await User.get(PydanticObjectId(key.agent_id))
    if agent is None or "agent" not in agent.roles:
        raise Unauthenticated("the API key's account is no longer an agent")
    if agent.locked_at is not None:
        raise Unauthenticated("the API key's account is locked")
    limit = services.settings.rate_limits.api_key_requests
    await services.limits.hit("api_key_requests", str(key.id), refusal=f"this API key may make {limit} requests")
    if scope not in key.scopes:
        raise Forbidden(f"this API key lacks scope {scope}")
    return Integration(key_id=str(key.id), name=key.name, agent_id=key.agent_id, scopes=frozenset(key.scopes))
