"""The life of an integration's API key, as admins drive it: made (its secret shown once), listed, rotated with a
grace period, revoked; every change goes into the security audit log under the agent the key reads for."""

from datetime import datetime, timedelta

from beanie import PydanticObjectId

from documents.api_key import ApiKey, ApiKeyGone, ApiKeyScope
from documents.audit import AuditEvent, AuditKind
from documents.user import User
from gateway.input_guard import parse_object_id
from gateway.integrations.api_keys import api_key_now, new_secret, secret_hash, secret_hint
from gateway.problems import Conflict, NotFound, ValidationFailed
from gateway.security.callers import Caller
from gateway.services import Services


async def create_key(
    services: Services, admin: Caller, name: str, scopes: list[ApiKeyScope], agent_id: str, expires_at: datetime
) -> tuple[ApiKey, str]:
    """A new key for the agent's integration, and its secret: it is not stored and cannot be shown again."""
    now = api_key_now(services)
    if expires_at <= now or expires_at > now + timedelta(days=services.settings.api_keys.max_ttl_days):
        raise ValidationFailed(
            errors=[{"field": "body.expires_at", "message": "must be in the future, within max_ttl_days", "code": "expiry"}]
        )
    agent = await User.get(PydanticObjectId(agent_id))
    if agent is None or "agent" not in agent.roles:
        raise ValidationFailed(errors=[{"field": "body.agent_id", "message": "no such agent", "code": "unknown_agent"}])
    secret = new_secret()
    key = ApiKey(
        name=name,
        scopes=scopes,
        agent_id=agent_id,
        secret_hash=secret_hash(secret),
        hint=secret_hint(secret),
        created_by=admin.user_id,
        created_at=now,
        expires_at=expires_at,
    )
    await key.insert()
    await _audit(AuditKind.API_KEY_CREATED, key, admin)
    return key, secret


async def keys_newest_first() -> list[ApiKey]:
    return await ApiKey.find().sort([("_id", -1)]).to_list()


async def rotate_key(services: Services, admin: Caller, key_id: str) -> tuple[ApiKey, str]:
    """A new secret for the key; the old one keeps working for [api_keys] rotation_grace_s. 409 once revoked, or
    when another rotation won."""
    key = await _key(key_id)
    secret = new_secret()
    grace = timedelta(seconds=services.settings.api_keys.rotation_grace_s)
    try:
        rotated = await key.rotate(secret_hash(secret), secret_hint(secret), grace, api_key_now(services))
    except ApiKeyGone as error:
        raise Conflict(str(error)) from None
    await _audit(AuditKind.API_KEY_ROTATED, rotated, admin)
    return rotated, secret


async def revoke_key(services: Services, admin: Caller, key_id: str) -> ApiKey:
    """Its current and previous secrets stop working at once; 409 when it is revoked already."""
    key = await _key(key_id)
    try:
        revoked = await ApiKey.revoke(key.id, api_key_now(services))  # type: ignore[arg-type]
    except ApiKeyGone as error:
        raise Conflict(str(error)) from None
    await _audit(AuditKind.API_KEY_REVOKED, revoked, admin)
    return revoked


async def _audit(kind: AuditKind, key: ApiKey, admin: Caller) -> None:
    await AuditEvent.record(
        kind, user_id=PydanticObjectId(key.agent_id), actor_id=PydanticObjectId(admin.user_id), key_id=str(key.id), name=key.name
    )


async def _key(key_id: str) -> ApiKey:
    key = await ApiKey.get(parse_object_id(key_id))
    if key is None:
        raise NotFound("no such API key")
    return key
