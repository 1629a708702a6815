"""Syncing imported feeds: fetch (conditionally), read the nights, make the listing's blocks match, record the outcome
on the feed, and flag nights a booking already holds to the host and the admins. Periodic, and once on adding."""

import asyncio
from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId
from beanie.odm.utils.encoder import Encoder
from bson import ObjectId
from pymongo import ReturnDocument

from documents.booking import BookingStatus
from documents.calendar_feed import CalendarImport, ImportConflict
from documents.notification import NotificationKind
from documents.property import Property, PropertyStatus
from gateway.bookings.claims import NightsTaken
from gateway.calendar_sync.fetch import FeedRefused, fetch_feed
from gateway.calendar_sync.ical import nights_in_feed
from gateway.calendar_sync.imported_nights import match_feed_nights
from gateway.jobs import JobPolicy, enqueue, every, job
from gateway.logs import get_logger
from gateway.messaging.bus import Published
from gateway.messaging.catalogue import BOOKING_UPDATED
from gateway.messaging.targets import user_room
from gateway.notifications.audiences import UsersMatching
from gateway.notifications.booking_context import booking_reference
from gateway.notifications.dispatch import notify
from gateway.services import Services

log = get_logger("lango.calendar")
ADMIN_BATCH = 100
# Booking states that free the booking's nights.
RELEASED = frozenset({BookingStatus.CANCELLED.value, BookingStatus.EXPIRED.value})


async def sync_import(services: Services, feed: CalendarImport) -> CalendarImport:
    """One sync of one feed; every outcome, a refusal included, is recorded on it and nothing else changes."""
    settings = services.settings.calendar
    now = services.clock()
    today = now.date()
    changes: dict[str, Any] = {"last_attempt_at": now}
    new_conflicts: list[ImportConflict] = []
    try:
        listing = await Property.get(feed.property_id)
        if listing is None or listing.status == PropertyStatus.ARCHIVED:
            # An archived listing takes no bookings: its feeds are not fetched any more.
            raise FeedRefused("the listing is archived")
        fetched = await fetch_feed(services.http, feed.url, settings, etag=feed.etag, last_modified=feed.last_modified)
        if fetched is not None:
            horizon = today + timedelta(days=services.settings.bookings.max_advance_days)
            nights = await asyncio.to_thread(nights_in_feed, fetched.body, today, horizon, settings.max_events)
            blocked, conflicts = await match_feed_nights(services, feed, nights, today)
            flagged = {(conflict.night, conflict.booking_id) for conflict in feed.conflicts}
            new_conflicts = [conflict for conflict in conflicts if (conflict.night, conflict.booking_id) not in flagged]
            changes |= {"etag": fetched.etag, "last_modified": fetched.last_modified, "blocked_nights": blocked,
                        "conflicts": Encoder().encode([conflict.model_dump() for conflict in conflicts])}  # fmt: skip
        changes |= {"last_synced_at": now, "last_error": None}
    except FeedRefused as refused:
        changes["last_error"] = str(refused)
        log.info("calendar feed refused", import_id=str(feed.id), error=str(refused))
    except NightsTaken:
        changes["last_error"] = "the listing's calendar kept changing during the sync; it is tried again soon"
    raw = await CalendarImport.get_pymongo_collection().find_one_and_update(
        {"_id": feed.id}, {"$set": changes}, return_document=ReturnDocument.AFTER
    )
    if raw is None:  # removed while it was being fetched; its nights went with it
        return feed
    updated = CalendarImport.model_validate(raw)
    if new_conflicts:
        await flag_conflicts(services, updated, new_conflicts)
    return updated


async def flag_conflicts(services: Services, feed: CalendarImport, conflicts: list[ImportConflict]) -> None:
    """The listing's agent and every admin hear of each booking the feed overlaps, once per booking and feed."""
    listing = await Property.get(feed.property_id)
    by_booking: dict[PydanticObjectId, list[ImportConflict]] = {}
    for conflict in conflicts:
        by_booking.setdefault(conflict.booking_id, []).append(conflict)
    admins = await _admin_ids()
    for booking_id, nights in by_booking.items():
        context = {
            "property_title": listing.title if listing else "",
            "feed_name": feed.name,
            "booking_ref": booking_reference(str(booking_id)),
            "first_night": nights[0].night,
            "nights": len(nights),
            "calendar_url": f"{services.settings.notifications.public_app_url}/listings/{feed.property_id}/calendar",
        }
        data = {"property_id": str(feed.property_id), "booking_id": str(booking_id), "import_id": str(feed.id)}
        for user_id in dict.fromkeys([feed.agent_id, *admins]):
            key = f"{NotificationKind.CALENDAR_CONFLICT}:{feed.id}:{booking_id}:{nights[0].night}"
            await notify(services, user_id, NotificationKind.CALENDAR_CONFLICT, context, dedupe_key=key, data=data)


async def _admin_ids() -> list[str]:
    admins, after = UsersMatching({"roles": "admin"}), None
    found: list[str] = []
    while batch := await admins.user_ids_after(after, ADMIN_BATCH):
        found += batch
        after = batch[-1]
    return found


async def sync_due_imports(services: Services) -> int:
    """Sync every feed whose last attempt is older than calendar.sync_interval_s (a batch per run, a few at once);
    each is taken by moving its attempt time first, so two runs never fetch one feed together."""
    settings = services.settings.calendar
    now = services.clock()
    due_before = now - timedelta(seconds=settings.sync_interval_s)
    due = {"$or": [{"last_attempt_at": None}, {"last_attempt_at": {"$lte": due_before}}]}
    gate = asyncio.Semaphore(settings.sync_concurrency)
    collection = CalendarImport.get_pymongo_collection()

    async def take_and_sync(raw: dict[str, Any]) -> bool:
        async with gate:
            taken = await collection.update_one(
                {"_id": raw["_id"], "last_attempt_at": raw.get("last_attempt_at")}, {"$set": {"last_attempt_at": now}}
            )
            if not taken.modified_count:
                return False
            await sync_import(services, CalendarImport.model_validate(raw))
            return True

    candidates = await collection.find(due).sort("last_attempt_at", 1).limit(settings.sync_batch).to_list()
    return sum(await asyncio.gather(*(take_and_sync(raw) for raw in candidates)))


@every("*/5 * * * *", timeout_s=300)
async def sync_calendar_imports(ctx: dict[str, Any]) -> int:
    """Every 5 minutes: fetch the imported calendars that are due."""
    synced = await sync_due_imports(ctx["services"])
    if synced:
        log.info("calendar imports synced", count=synced)
    return synced


@job(JobPolicy(retries=1, timeout_s=120))
async def sync_new_calendar_import(ctx: dict[str, Any], *, import_id: str) -> bool:
    """A sync now rather than at the feed's turn: when it was just added, or a booking it overlapped let go."""
    feed = await CalendarImport.get(PydanticObjectId(import_id)) if ObjectId.is_valid(import_id) else None
    if feed is None:
        return False
    await sync_import(ctx["services"], feed)
    return True


def install_conflict_resync(services: Services) -> None:
    """When a booking a feed overlapped is cancelled or expires, its nights are free here while the other site still
    has them taken: the feeds that flagged it sync at once instead of at their next turn, closing that window."""

    async def on_booking_updated(published: Published) -> None:
        data = published.data
        if published.type != BOOKING_UPDATED or published.target != user_room(data["guest_id"]):
            return
        if data["status"] not in RELEASED:
            return
        async for feed in CalendarImport.find({"conflicts.booking_id": PydanticObjectId(data["id"])}):
            await enqueue(
                services.queue,
                sync_new_calendar_import,
                key=f"calendar-resync:{feed.id}:{data['id']}",
                import_id=str(feed.id),
            )

    services.bus.subscribe(on_booking_updated)
