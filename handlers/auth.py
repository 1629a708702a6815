"""Sign-up, sign-in and tokens: /v1/auth/… and the public keys at /.well-known/jwks.json."""

from typing import Any

from aiohttp import web
from beanie import PydanticObjectId
from pydantic import BaseModel

from documents.user import User
from gateway.problems import Unauthenticated
from gateway.routing import ApiRoutes
from gateway.security.access import AUTHENTICATED, Caller
from gateway.state import TOKENS
from handlers.auth_views import AccountView

routes = ApiRoutes(tag="auth")


class JsonWebKeySet(BaseModel):
    keys: list[dict[str, Any]]


@routes.get("/.well-known/jwks.json", response=JsonWebKeySet, summary="Public keys that verify access tokens (JWKS)")
async def jwks(request: web.Request) -> JsonWebKeySet:
    return JsonWebKeySet.model_validate(request.app[TOKENS].jwks())


@routes.get("/v1/auth/me", response=AccountView, access=AUTHENTICATED, summary="The signed-in account")
async def me(request: web.Request, caller: Caller) -> AccountView:
    user = await User.get(PydanticObjectId(caller.user_id))
    if user is None:
        raise Unauthenticated("this account no longer exists")
    return AccountView.of(user)
