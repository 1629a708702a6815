"""The signed-in user's analytics choice: whether product events about them are sent."""

from aiohttp import web

from documents.analytics_opt_out import AnalyticsOptOut
from gateway.analytics.views import AnalyticsPreference
from gateway.http_access import AUTHENTICATED
from gateway.routing import ApiRoutes, RequestModel
from gateway.security.callers import Caller

routes = ApiRoutes(tag="analytics")


class AnalyticsChoice(RequestModel):
    enabled: bool


@routes.get(
    "/v1/me/analytics", response=AnalyticsPreference, access=AUTHENTICATED, summary="Whether analytics are on for me"
)
async def get_analytics_preference(request: web.Request, caller: Caller) -> AnalyticsPreference:
    return AnalyticsPreference(enabled=not await AnalyticsOptOut.is_opted_out(caller.user_id))


@routes.put(
    "/v1/me/analytics",
    body=AnalyticsChoice,
    response=AnalyticsPreference,
    access=AUTHENTICATED,
    summary="Turn analytics about me on or off",
)
async def set_analytics_preference(request: web.Request, caller: Caller, body: AnalyticsChoice) -> AnalyticsPreference:
    await AnalyticsOptOut.set_for(caller.user_id, opted_out=not body.enabled)
    return AnalyticsPreference(enabled=body.enabled)
