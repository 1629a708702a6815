"""Developer routes, installed only in sandbox mode: the outbox of email and SMS that was not really sent."""

from typing import Literal

from aiohttp import web
from pydantic import Field

from gateway.notifications.views import Outbox
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.state import SERVICES
from providers.outbox import list_outbox

routes = ApiRoutes(tag="sandbox")


class OutboxQuery(RequestModel):
    channel: Literal["email", "sms", "push"] | None = None
    limit: int = Field(50, ge=1, le=500)


@routes.get("/dev/outbox", query=OutboxQuery, response=Outbox, summary="Messages the sandbox kept instead of sending, newest first")
async def outbox(request: web.Request, query: OutboxQuery) -> Outbox:
    entries = await list_outbox(request.app[SERVICES].redis, request.app[SERVICES].settings.redis.namespace, query.channel, query.limit)
    return Outbox(items=entries)
