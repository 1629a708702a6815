"""Listing pages: admins moderate every agent's listings (taking one out of search), agents see and publish their
own; each action the listing routes' own domain call."""

from collections.abc import Awaitable, Callable

from aiohttp import web

from documents.property import Property, PropertyStatus
from gateway.http_access import BearerAccess
from gateway.problems import Problem
from gateway.properties.listings import listings_of_agent, listings_to_moderate, publish_listing, unpublish_listing
from gateway.properties.views import ListingView
from gateway.security.callers import Caller
from gateway.services import Services
from gateway.state import SERVICES
from handlers.console.session import check_form_token, console_page, render_for, see_other, signed_in
from handlers.properties import ADMIN, AGENT

routes = web.RouteTableDef()
LISTINGS = "/console/listings"
PAGE_SIZE = 20
DONE = frozenset({"unpublished", "published"})


@routes.get(LISTINGS)
@console_page
async def list_listings(request: web.Request) -> web.StreamResponse:
    at = await signed_in(request, AGENT)
    wanted = request.query.get("status", "")
    status = PropertyStatus(wanted) if wanted in PropertyStatus.__members__.values() else None
    cursor, problem = request.query.get("cursor"), None
    try:
        if at.caller.is_admin:
            found, next_cursor = await listings_to_moderate(at.caller, status, cursor, PAGE_SIZE)
        else:
            found, next_cursor = await listings_of_agent(at.caller, cursor, PAGE_SIZE)
    except Problem as refused:
        found, next_cursor, problem = [], None, refused
    done = request.query.get("done")
    return await render_for(
        request, at, "listings.html", listings=[ListingView.of(listing) for listing in found], next_cursor=next_cursor,
        chosen_status=status.value if status else "", statuses=[state.value for state in PropertyStatus], problem=problem,
        done=done if done in DONE else None,
    )  # fmt: skip


ListingMove = Callable[[Services, Caller, str], Awaitable[Property]]


async def _moved(request: web.Request, access: BearerAccess, move: ListingMove, done: str) -> web.StreamResponse:
    at = await signed_in(request, access)
    form = await check_form_token(request, at.session)
    await move(request.app[SERVICES], at.caller, request.match_info["listing_id"])
    back = form.get("status", "")
    return see_other(f"{LISTINGS}?done={done}" + (f"&status={back}" if back in PropertyStatus.__members__.values() else ""))


@routes.post(LISTINGS + "/{listing_id}/unpublish")
@console_page
async def unpublish(request: web.Request) -> web.StreamResponse:
    """As POST /v1/properties/{id}/unpublish: an admin takes a published listing out of search."""
    return await _moved(request, ADMIN, unpublish_listing, "unpublished")


@routes.post(LISTINGS + "/{listing_id}/publish")
@console_page
async def publish(request: web.Request) -> web.StreamResponse:
    """As POST /v1/properties/{id}/publish: the listing's agent puts a draft in search."""
    return await _moved(request, AGENT, publish_listing, "published")
