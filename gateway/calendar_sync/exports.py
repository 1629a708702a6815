"""A listing's export feed: its secret URL (made on first ask, rotated on demand) and the feed its nights make."""

import hmac
import secrets
from datetime import date, datetime, timedelta
from itertools import groupby

from beanie import PydanticObjectId
from bson import ObjectId
from pydantic import BaseModel
from pymongo import ReturnDocument

from documents.calendar_feed import CalendarExport
from documents.clock import stored_now
from documents.night_claim import ClaimKind, NightClaim, stored_date
from documents.property import Property
from gateway.calendar_sync.ical import TakenRun, feed_of
from gateway.problems import NotFound
from gateway.services import Services

SECRET_BYTES = 32
# Nights already past stay in the feed this long, so a site that imports it late still sees the stay that just ended.
PAST_DAYS = 30
SUMMARIES = {ClaimKind.BOOKING: "Reserved", ClaimKind.BLOCK: "Not available"}


class ExportFeed(BaseModel):
    url: str
    rotated_at: datetime


def _feed_url(services: Services, export: CalendarExport) -> str:
    return f"{services.settings.server.public_url.rstrip('/')}/v1/calendars/{export.property_id}/{export.secret}.ics"


async def export_feed(services: Services, listing: Property) -> ExportFeed:
    """The listing's feed URL, made the first time it is asked for."""
    fresh = {"property_id": listing.id, "secret": secrets.token_urlsafe(SECRET_BYTES), "rotated_at": stored_now()}
    raw = await CalendarExport.get_pymongo_collection().find_one_and_update(
        {"property_id": listing.id}, {"$setOnInsert": fresh}, upsert=True, return_document=ReturnDocument.AFTER
    )
    export = CalendarExport.model_validate(raw)
    return ExportFeed(url=_feed_url(services, export), rotated_at=export.rotated_at)


async def rotate_export(services: Services, listing: Property) -> ExportFeed:
    """A new secret: the old URL stops working at once."""
    change = {"secret": secrets.token_urlsafe(SECRET_BYTES), "rotated_at": stored_now()}
    raw = await CalendarExport.get_pymongo_collection().find_one_and_update(
        {"property_id": listing.id}, {"$set": change}, upsert=True, return_document=ReturnDocument.AFTER
    )
    export = CalendarExport.model_validate(raw)
    return ExportFeed(url=_feed_url(services, export), rotated_at=export.rotated_at)


async def feed_for_secret(services: Services, property_id: str, secret: str) -> bytes:
    """The feed of the listing whose secret this is; 404 alike for no listing, no feed and a wrong secret."""
    export = (
        await CalendarExport.find_one({"property_id": ObjectId(property_id)})
        if ObjectId.is_valid(property_id)
        else None
    )
    # Compared in constant time, so the answer's timing tells nothing about how much of a guess was right.
    if export is None or not hmac.compare_digest(export.secret.encode(), secret.encode()):
        raise NotFound("no such calendar")
    listing = await Property.get(export.property_id)
    if listing is None:
        raise NotFound("no such calendar")
    today = services.clock().date()
    runs = await taken_runs(
        listing.id,
        today - timedelta(days=PAST_DAYS),
        today + timedelta(days=services.settings.bookings.max_advance_days),
    )
    return feed_of(listing.title, runs, services.clock())


async def taken_runs(property_id: PydanticObjectId, start: date, end: date) -> list[TakenRun]:
    """The listing's own bookings and blocks in [start, end) as runs of consecutive nights. Nights imported from other
    sites' feeds are left out, as those sites leave out what they import: a feed echoed back would block its own
    nights for good."""
    claims = (
        await NightClaim.find(
            {
                "property_id": property_id,
                "kind": {"$in": list(SUMMARIES)},
                "night": {"$gte": stored_date(start), "$lt": stored_date(end)},
            }
        )
        .sort("night")
        .to_list()
    )
    runs: list[TakenRun] = []
    for (kind, booking_id), group in groupby(claims, key=lambda claim: (claim.kind, claim.booking_id)):
        nights = [claim.night for claim in group]
        run_start = nights[0]
        for previous, night in zip(nights, [*nights[1:], None], strict=True):
            if night != previous + timedelta(days=1):
                runs.append(
                    TakenRun(
                        run_start, previous + timedelta(days=1), SUMMARIES[kind], f"{property_id}-{run_start}@lango"
                    )
                )
                if night is not None:
                    run_start = night
    return runs
