"""Admin routes for integration API keys: create (the secret shown once), list, rotate with a grace period, revoke."""

from datetime import timedelta

from aiohttp import web
from beanie import PydanticObjectId
from pydantic import Field, field_validator

from documents.api_key import ApiKey, ApiKeyGone, ApiKeyScope
from documents.audit import AuditEvent, AuditKind
from documents.user import User
from gateway.http_access import roles
from gateway.input_guard import ObjectIdStr, parse_object_id
from gateway.input_types import ApiDatetime, DisplayText
from gateway.integrations.api_keys import api_key_now, new_secret, secret_hash, secret_hint
from gateway.integrations.views import ApiKeyList, ApiKeySecret, ApiKeyView
from gateway.problems import Conflict, NotFound, ValidationFailed
from gateway.routing import ApiRoutes, RequestModel
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="admin")
ADMINS = roles("admin")
API_KEY = "/v1/admin/api-keys/{key_id}"


class ApiKeyRequest(RequestModel):
    name: DisplayText = Field(min_length=1, max_length=80)
    scopes: list[ApiKeyScope] = Field(min_length=1, max_length=8)
    agent_id: ObjectIdStr = Field(description="The agent account the integration reads for")
    expires_at: ApiDatetime = Field(description="UTC; within [api_keys] max_ttl_days from now")

    @field_validator("scopes")
    @classmethod
    def _distinct(cls, scopes: list[ApiKeyScope]) -> list[ApiKeyScope]:
        return sorted(set(scopes))  # type: ignore[return-value]


@routes.post("/v1/admin/api-keys", body=ApiKeyRequest, response=ApiKeySecret, status=201, access=ADMINS)
async def create_api_key(request: web.Request, caller: Caller, body: ApiKeyRequest) -> ApiKeySecret:
    """Create an integration key; the answer is the only place its secret ever appears"""
    now = api_key_now(request.app[SERVICES])
    if body.expires_at <= now or body.expires_at > now + timedelta(days=request.app[SERVICES].settings.api_keys.max_ttl_days):
        raise ValidationFailed(
            errors=[{"field": "body.expires_at", "message": "must be in the future, within max_ttl_days", "code": "expiry"}]
        )
    agent = await User.get(PydanticObjectId(body.agent_id))
    if agent is None or "agent" not in agent.roles:
        raise ValidationFailed(errors=[{"field": "body.agent_id", "message": "no such agent", "code": "unknown_agent"}])
    secret = new_secret()
    key = ApiKey(
        name=body.name,
        scopes=body.scopes,
        agent_id=body.agent_id,
        secret_hash=secret_hash(secret),
        hint=secret_hint(secret),
        created_by=caller.user_id,
        created_at=now,
        expires_at=body.expires_at,
    )
    await key.insert()
    await _audit(AuditKind.API_KEY_CREATED, key, caller)
    return ApiKeySecret(key=ApiKeyView.of(key), secret=secret)


@routes.get("/v1/admin/api-keys", response=ApiKeyList, access=ADMINS)
async def list_api_keys(request: web.Request, caller: Caller) -> ApiKeyList:
    """Every integration key, newest first, without secrets"""
    keys = await ApiKey.find().sort([("_id", -1)]).to_list()
    return ApiKeyList(items=[ApiKeyView.of(key) for key in keys])


@routes.post(f"{API_KEY}/rotate", response=ApiKeySecret, access=ADMINS, problems=(409,))
async def rotate_api_key(request: web.Request, caller: Caller) -> ApiKeySecret:
    """A new secret for the key; the old one keeps working for [api_keys] rotation_grace_s"""
    key = await _key(request)
    secret = new_secret()
    try:
        rotated = await key.rotate(
            secret_hash(secret),
            secret_hint(secret),
            timedelta(seconds=request.app[SERVICES].settings.api_keys.rotation_grace_s),
            api_key_now(request.app[SERVICES]),
        )
    except ApiKeyGone as error:
        raise Conflict(str(error)) from None
    await _audit(AuditKind.API_KEY_ROTATED, rotated, caller)
    return ApiKeySecret(key=ApiKeyView.of(rotated), secret=secret)


@routes.delete(API_KEY, access=ADMINS, problems=(409,))
async def revoke_api_key(request: web.Request, caller: Caller) -> None:
    """Revoke the key: its current and previous secrets stop working at once"""
    key = await _key(request)
    try:
        revoked = await ApiKey.revoke(key.id, api_key_now(request.app[SERVICES]))  # type: ignore[arg-type]
    except ApiKeyGone as error:
        raise Conflict(str(error)) from None
    await _audit(AuditKind.API_KEY_REVOKED, revoked, caller)


async def _audit(kind: AuditKind, key: ApiKey, admin: Caller) -> None:
    """Key changes go into the security audit log under the agent the key reads for."""
    await AuditEvent.record(
        kind, user_id=PydanticObjectId(key.agent_id), actor_id=PydanticObjectId(admin.user_id), key_id=str(key.id), name=key.name
    )


async def _key(request: web.Request) -> ApiKey:
    key = await ApiKey.get(parse_object_id(request.match_info["key_id"]))
    if key is None:
        raise NotFound("no such API key")
    return key
