"""Server-to-server routes for integrations such as channel managers, opened by an API key with a scope."""

from typing import Annotated

from aiohttp import web
from pydantic import Field

from gateway.bookings.lifecycle import list_bookings
from gateway.bookings.views import BookingPage, BookingView
from gateway.http_access import api_key
from gateway.integrations.api_keys import Integration
from gateway.properties.listings import listings_of_agent
from gateway.properties.views import ListingPage, ListingView
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes

routes = ApiRoutes(tag="integrations")


class IntegrationPageQuery(RequestModel):
    cursor: Annotated[str, Field(max_length=64)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50


@routes.get(
    "/v1/integrations/bookings",
    query=IntegrationPageQuery,
    response=BookingPage,
    access=api_key("bookings:read"),
    problems=(400, 429),
)
async def integration_bookings(request: web.Request, caller: Integration, query: IntegrationPageQuery) -> BookingPage:
    """The stays at the key's agent's listings, newest first (a channel manager's calendar sync)"""
    bookings, next_cursor = await list_bookings(caller.as_agent(), "agent", query.cursor, query.limit)
    return BookingPage(items=[BookingView.of(booking) for booking in bookings], next_cursor=next_cursor)


@routes.get(
    "/v1/integrations/listings",
    query=IntegrationPageQuery,
    response=ListingPage,
    access=api_key("listings:read"),
    problems=(400, 429),
)
async def integration_listings(request: web.Request, caller: Integration, query: IntegrationPageQuery) -> ListingPage:
    """The key's agent's listings in every state, newest first"""
    listings, next_cursor = await listings_of_agent(caller.as_agent(), query.cursor, query.limit)
    return ListingPage(items=[ListingView.of(listing) for listing in listings], next_cursor=next_cursor)
