"""The signed-in user's analytics choice: whether product events about them are sent."""

from aiohttp import web

from documents.analytics_opt_out import AnalyticsOptOut
from gateway.analytics.views import AnalyticsPreference
from gateway.http_access import AUTHENTICATED
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="analytics")


class AnalyticsChoice(RequestModel):
    enabled: bool


@routes.get(
    "/v1/me/analytics",
    response=AnalyticsPreference,
    access=AUTHENTICATED,
    summary="Whether analytics are on for me",
    description="Until the user chooses, privacy.analytics_default_on decides.",
)
async def get_analytics_preference(request: web.Request, caller: Caller) -> AnalyticsPreference:
    default = request.app[SERVICES].settings.privacy.analytics_default_on
    return AnalyticsPreference(enabled=await AnalyticsOptOut.is_enabled(caller.user_id, default=default))


@routes.put(
    "/v1/me/analytics",
    body=AnalyticsChoice,
    response=AnalyticsPreference,
    access=AUTHENTICATED,
    summary="Turn analytics about me on or off",
)
async def set_analytics_preference(request: web.Request, caller: Caller, body: AnalyticsChoice) -> AnalyticsPreference:
    await AnalyticsOptOut.set_for(caller.user_id, enabled=body.enabled)
    return AnalyticsPreference(enabled=body.enabled)
