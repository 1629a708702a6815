"""The feeds a host imports into a listing: adding one (a URL, capped per listing), listing them with their last
sync, and removing one, which frees the nights it blocked."""

from datetime import datetime
from typing import Annotated

from beanie import PydanticObjectId
from bson import ObjectId
from pydantic import BaseModel, Field, field_validator
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from documents.calendar_feed import CalendarImport, ImportConflict
from documents.property import Property
from gateway.bookings.claims import release_matching
from gateway.database import in_transaction
from gateway.input_types import DisplayText
from gateway.problems import Conflict, NotFound
from gateway.properties.search_cache import bump_search_version
from gateway.request_models import RequestModel
from gateway.services import Services

MAX_URL_CHARS = 2_000


class ImportLimitReached(Conflict):
    slug, title = "calendar-import-limit", "This listing imports as many calendars as it may"


class ImportExists(Conflict):
    slug, title = "calendar-import-exists", "This listing already imports that calendar"


class NewImport(RequestModel):
    url: Annotated[str, Field(min_length=10, max_length=MAX_URL_CHARS, pattern=r"^https?://[^\s@]+$")]
    name: Annotated[DisplayText, Field(min_length=1, max_length=60)] = "Imported calendar"

    @field_validator("url")
    @classmethod
    def _has_a_host(cls, url: str) -> str:
        # No credentials (the pattern refuses "@"), and a host: the address itself is checked at every fetch.
        rest = url.split("://", 1)[1]
        if not rest or rest[0] in "/:?#":
            raise ValueError("the URL needs a host")
        return url


class ImportView(BaseModel):
    id: str
    url: str
    name: str
    last_attempt_at: datetime | None
    last_synced_at: datetime | None
    last_error: str | None
    blocked_nights: int
    conflicts: list[ImportConflict]
    created_at: datetime

    @classmethod
    def of(cls, feed: CalendarImport) -> "ImportView":
        return cls(
            id=str(feed.id), **feed.model_dump(exclude={"id", "property_id", "agent_id", "etag", "last_modified"})
        )


class ImportList(BaseModel):
    items: list[ImportView]


async def add_import(services: Services, listing: Property, new: NewImport) -> CalendarImport:
    """One more feed, unless the listing is at its cap: the count on the listing is raised only while under the cap,
    in the insert's transaction, so racing adds never pass it together."""
    assert listing.id is not None
    cap = services.settings.calendar.max_imports_per_listing
    feed = CalendarImport(property_id=listing.id, agent_id=listing.agent_id, url=new.url, name=new.name)

    async def add(session: AsyncClientSession) -> None:
        counted = await Property.get_pymongo_collection().update_one(
            {"_id": listing.id, "calendar_imports": {"$not": {"$gte": cap}}},
            {"$inc": {"calendar_imports": 1}},
            session=session,
        )
        if not counted.modified_count:
            raise ImportLimitReached(f"a listing imports at most {cap} calendars")
        try:
            await feed.insert(session=session)
        except DuplicateKeyError:
            raise ImportExists() from None

    await in_transaction(services, add)
    return feed


async def imports_of(listing: Property) -> list[CalendarImport]:
    return await CalendarImport.find({"property_id": listing.id}).sort("created_at").to_list()


async def remove_import(services: Services, listing: Property, import_id: str) -> int:
    """Stop importing the feed and free every night it blocked; answers how many nights were freed."""
    feed = (
        await CalendarImport.find_one({"_id": PydanticObjectId(import_id), "property_id": listing.id})
        if ObjectId.is_valid(import_id)
        else None
    )
    if feed is None:
        raise NotFound("no such calendar import")

    async def remove(session: AsyncClientSession) -> int:
        deleted = await CalendarImport.get_pymongo_collection().delete_one({"_id": feed.id}, session=session)
        if deleted.deleted_count:
            await Property.get_pymongo_collection().update_one(
                {"_id": listing.id}, {"$inc": {"calendar_imports": -1}}, session=session
            )
        return await release_matching(session, {"import_id": feed.id})

    freed = await in_transaction(services, remove)
    await bump_search_version(services)
    return freed
