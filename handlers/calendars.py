"""Calendar sync routes: a listing's secret iCal export (read, rotate, and the public feed itself) and the feeds its
agent imports from other sites."""

from aiohttp import web

from gateway.calendar_sync.exports import ExportFeed, export_feed, feed_for_secret, rotate_export
from gateway.calendar_sync.imports import ImportList, ImportView, NewImport, add_import, imports_of, remove_import
from gateway.calendar_sync.sync import sync_new_calendar_import
from gateway.http_access import roles
from gateway.jobs import enqueue
from gateway.problems import NotFound
from gateway.properties.listings import managed_listing
from gateway.properties.views import Released
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="calendars")
AGENT = roles("agent")
LISTING = "/v1/properties/{property_id}"
FEED_SUFFIX = ".ics"


@routes.get(f"{LISTING}/calendar-export", response=ExportFeed, access=AGENT, problems=(401, 403, 404))
async def read_calendar_export(request: web.Request, caller: Caller) -> ExportFeed:
    """The listing's secret iCal feed URL, to paste into Airbnb, Booking.com or any calendar"""
    listing = await managed_listing(caller, request.match_info["property_id"])
    return await export_feed(request.app[SERVICES], listing)


@routes.post(f"{LISTING}/calendar-export/rotate", response=ExportFeed, access=AGENT, problems=(401, 403, 404))
async def rotate_calendar_export(request: web.Request, caller: Caller) -> ExportFeed:
    """A new secret feed URL; the old one stops working at once"""
    listing = await managed_listing(caller, request.match_info["property_id"])
    return await rotate_export(request.app[SERVICES], listing)


@routes.get(
    "/v1/calendars/{property_id}/{feed}",
    response_content_type="text/calendar",
    problems=(404,),
    summary="A listing's iCal feed of taken nights",
    description="Public, for the sites that import it; the URL's secret is the only key, compared in constant time. "
    "One all-day event per run of nights: `Reserved` for held and confirmed bookings, `Not available` for the agent's "
    "blocks. Nights imported from other calendars are left out, as those sites leave out what they import.",
)
async def calendar_feed(request: web.Request) -> web.Response:
    feed = request.match_info["feed"]
    if not feed.endswith(FEED_SUFFIX):
        raise NotFound("no such calendar")
    body = await feed_for_secret(
        request.app[SERVICES], request.match_info["property_id"], feed.removesuffix(FEED_SUFFIX)
    )
    # The secret is in the URL: keep it out of shared caches and referrers.
    headers = {"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"}
    return web.Response(body=body, content_type="text/calendar", charset="utf-8", headers=headers)


@routes.get(f"{LISTING}/calendar-imports", response=ImportList, access=AGENT, problems=(401, 403, 404))
async def list_calendar_imports(request: web.Request, caller: Caller) -> ImportList:
    """The calendars this listing imports, each with its last sync, last error, nights blocked and conflicts"""
    listing = await managed_listing(caller, request.match_info["property_id"])
    return ImportList(items=[ImportView.of(feed) for feed in await imports_of(listing)])


@routes.post(
    f"{LISTING}/calendar-imports",
    body=NewImport,
    response=ImportView,
    status=201,
    access=AGENT,
    problems=(401, 403, 404, 409, 422),
    description="Add an iCal feed URL (Airbnb's or Booking.com's export link): its events block the listing's nights "
    "here. It is fetched within moments and then every calendar.sync_interval_s, conditionally; a feed on a private "
    "address, slower than calendar.fetch_timeout_s or larger than calendar.max_feed_bytes is refused and the reason "
    "shown as `last_error`. Nights a booking here already holds are not blocked: they are listed as `conflicts` and "
    "the agent and admins are notified (`calendar_conflict`); once such a booking is cancelled or expires the feed "
    "syncs again at once. At most calendar.max_imports_per_listing feeds "
    "(409 calendar-import-limit); the same URL twice is 409 calendar-import-exists.",
)
async def add_calendar_import(request: web.Request, caller: Caller, body: NewImport) -> ImportView:
    """Import another site's iCal feed into the listing"""
    services = request.app[SERVICES]
    listing = await managed_listing(caller, request.match_info["property_id"])
    feed = await add_import(services, listing, body)
    await enqueue(services.queue, sync_new_calendar_import, key=f"calendar-import:{feed.id}", import_id=str(feed.id))
    return ImportView.of(feed)


@routes.delete(f"{LISTING}/calendar-imports/{{import_id}}", response=Released, access=AGENT, problems=(401, 403, 404))
async def remove_calendar_import(request: web.Request, caller: Caller) -> Released:
    """Stop importing a feed; the nights it blocked are freed"""
    listing = await managed_listing(caller, request.match_info["property_id"])
    return Released(
        released_nights=await remove_import(request.app[SERVICES], listing, request.match_info["import_id"])
    )
