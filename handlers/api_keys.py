"""Admin routes for integration API keys: create (the secret shown once), list, rotate with a grace period, revoke."""

from aiohttp import web
from pydantic import Field, field_validator

from documents.api_key import ApiKeyScope
from gateway.http_access import roles
from gateway.input_guard import ObjectIdStr
from gateway.input_types import ApiDatetime, DisplayText
from gateway.integrations.key_lifecycle import create_key, keys_newest_first, revoke_key, rotate_key
from gateway.integrations.views import ApiKeyList, ApiKeySecret, ApiKeyView
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
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
    key, secret = await create_key(request.app[SERVICES], caller, body.name, body.scopes, body.agent_id, body.expires_at)
    return ApiKeySecret(key=ApiKeyView.of(key), secret=secret)


@routes.get("/v1/admin/api-keys", response=ApiKeyList, access=ADMINS)
async def list_api_keys(request: web.Request, caller: Caller) -> ApiKeyList:
    """Every integration key, newest first, without secrets"""
    return ApiKeyList(items=[ApiKeyView.of(key) for key in await keys_newest_first()])


@routes.post(f"{API_KEY}/rotate", response=ApiKeySecret, access=ADMINS, problems=(409,))
async def rotate_api_key(request: web.Request, caller: Caller) -> ApiKeySecret:
    """A new secret for the key; the old one keeps working for [api_keys] rotation_grace_s"""
    rotated, secret = await rotate_key(request.app[SERVICES], caller, request.match_info["key_id"])
    return ApiKeySecret(key=ApiKeyView.of(rotated), secret=secret)


@routes.delete(API_KEY, access=ADMINS, problems=(409,))
async def revoke_api_key(request: web.Request, caller: Caller) -> None:
    """Revoke the key: its current and previous secrets stop working at once"""
    await revoke_key(request.app[SERVICES], caller, request.match_info["key_id"])
