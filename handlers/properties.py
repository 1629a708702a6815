"""Listing routes: agents create and manage listings and blocked dates; signed-in users search and read them."""

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from documents.night_claim import ClaimKind
from gateway.analytics import ProductEvent, track
from gateway.bookings.claims import block_nights, claimed_nights, unblock_nights
from gateway.http_access import AUTHENTICATED, roles
from gateway.input_types import ApiDate
from gateway.properties.listings import (
    ListingChanges,
    ListingFields,
    archive_listing,
    create_listing,
    listing_for,
    listings_of_agent,
    managed_listing,
    publish_listing,
    unpublish_listing,
    update_listing,
)
from gateway.properties.search import SearchQuery, search_listings
from gateway.properties.views import Calendar, ListingPage, ListingView, Released, SearchPage, TakenNight
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="properties")
AGENT = roles("agent")
ADMIN = roles("admin")
LISTING = "/v1/properties/{property_id}"
MAX_CALENDAR_DAYS = 400


class DateRange(RequestModel):
    start: ApiDate
    end: ApiDate

    @model_validator(mode="after")
    def _forward(self) -> "DateRange":
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.end - self.start).days > MAX_CALENDAR_DAYS:
            raise ValueError(f"a range may span at most {MAX_CALENDAR_DAYS} days")
        return self


class PageQuery(RequestModel):
    cursor: Annotated[str, Field(max_length=64)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


def _path_id(request: web.Request) -> str:
    return request.match_info["property_id"]


@routes.post("/v1/properties", body=ListingFields, response=ListingView, status=201, access=AGENT, problems=(401, 403, 422))
async def create_property(request: web.Request, caller: Caller, body: ListingFields) -> ListingView:
    """Create a draft listing"""
    return ListingView.of(await create_listing(request.app[SERVICES], caller, body))


@routes.get("/v1/properties", query=SearchQuery, response=SearchPage, access=AUTHENTICATED, problems=(400, 401, 422))
async def search_properties(request: web.Request, caller: Caller, query: SearchQuery) -> web.Response:
    """Search published listings: filters, near a point or within map bounds, free for dates; paged by cursor"""
    page, from_cache = await search_listings(request.app[SERVICES], query)
    await track(request.app[SERVICES], ProductEvent.SEARCH, caller.user_id, {"outcome": "cached" if from_cache else "searched"})
    return web.Response(body=page, content_type="application/json", headers={"X-Cache": "hit" if from_cache else "miss"})


@routes.get("/v1/me/properties", query=PageQuery, response=ListingPage, access=AGENT, problems=(400, 401, 403))
async def my_properties(request: web.Request, caller: Caller, query: PageQuery) -> ListingPage:
    """The caller's own listings in every state, newest first"""
    listings, next_cursor = await listings_of_agent(caller, query.cursor, query.limit)
    return ListingPage(items=[ListingView.of(listing) for listing in listings], next_cursor=next_cursor)


@routes.get(LISTING, response=ListingView, access=AUTHENTICATED, problems=(401, 404))
async def read_property(request: web.Request, caller: Caller) -> ListingView:
    """A published listing, or one of the caller's own in any state"""
    return ListingView.of(await listing_for(caller, _path_id(request)))


@routes.patch(LISTING, body=ListingChanges, response=ListingView, access=AGENT, problems=(401, 403, 404, 409, 422))
async def change_property(request: web.Request, caller: Caller, body: BaseModel) -> ListingView:
    """Change some fields of the caller's listing"""
    return ListingView.of(await update_listing(request.app[SERVICES], caller, _path_id(request), body))


@routes.post(f"{LISTING}/publish", response=ListingView, access=AGENT, problems=(401, 403, 404, 409))
async def publish_property(request: web.Request, caller: Caller) -> ListingView:
    """Publish a draft listing: it appears in search"""
    return ListingView.of(await publish_listing(request.app[SERVICES], caller, _path_id(request)))


@routes.post(f"{LISTING}/archive", response=ListingView, access=AGENT, problems=(401, 403, 404, 409))
async def archive_property(request: web.Request, caller: Caller) -> ListingView:
    """Archive a listing for good: out of search, no new bookings"""
    return ListingView.of(await archive_listing(request.app[SERVICES], caller, _path_id(request)))


@routes.post(f"{LISTING}/unpublish", response=ListingView, access=ADMIN, problems=(401, 403, 404, 409))
async def unpublish_property(request: web.Request, caller: Caller) -> ListingView:
    """Admins: take a published listing out of search, back to draft"""
    return ListingView.of(await unpublish_listing(request.app[SERVICES], caller, _path_id(request)))


@routes.post(f"{LISTING}/blocks", body=DateRange, response=Calendar, status=201, access=AGENT, problems=(401, 403, 404, 409, 422))
async def block_property_dates(request: web.Request, caller: Caller, body: DateRange) -> Calendar:
    """Block the nights [start, end) of the caller's listing; all or nothing"""
    listing = await managed_listing(caller, _path_id(request))
    nights = await block_nights(request.app[SERVICES], listing.id, body.start, body.end)
    return Calendar(property_id=str(listing.id), taken=[TakenNight(night=night, kind="blocked") for night in nights])


@routes.delete(f"{LISTING}/blocks", query=DateRange, response=Released, access=AGENT, problems=(401, 403, 404, 422))
async def unblock_property_dates(request: web.Request, caller: Caller, query: DateRange) -> Released:
    """Free the caller's own blocks in [start, end); booked nights stay booked"""
    listing = await managed_listing(caller, _path_id(request))
    return Released(released_nights=await unblock_nights(request.app[SERVICES], listing.id, query.start, query.end))


@routes.get(f"{LISTING}/calendar", query=DateRange, response=Calendar, access=AUTHENTICATED, problems=(401, 404, 422))
async def property_calendar(request: web.Request, caller: Caller, query: DateRange) -> Calendar:
    """Which nights in [start, end) are taken (never by whom)"""
    listing = await listing_for(caller, _path_id(request))
    claims = await claimed_nights(listing.id, query.start, query.end)
    taken = [TakenNight(night=claim.night, kind="booked" if claim.kind == ClaimKind.BOOKING else "blocked") for claim in claims]
    return Calendar(property_id=str(listing.id), taken=taken)
