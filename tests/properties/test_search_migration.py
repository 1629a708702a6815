"""Listings stored before search read the grid get their cells and claimed nights from migration 0003."""

from datetime import UTC, datetime

from bson import ObjectId
from pymongo import AsyncMongoClient

from documents.search_grid import cells_of
from gateway.migrations import m0003_listing_search_fields
from gateway.settings import Settings
from tests.conftest import TEST_DATABASE


async def test_the_migration_gives_old_listings_their_cells_and_claimed_nights(mongo: AsyncMongoClient, settings: Settings) -> None:
    db = mongo[TEST_DATABASE]
    booked, free = ObjectId(), ObjectId()
    for listing_id, point in ((booked, [36.82, -1.29]), (free, [39.66, -4.04])):
        await db.properties.insert_one({"_id": listing_id, "title": "before the grid", "location": {"type": "Point", "coordinates": point}})
    nights = [datetime(2027, 1, day, tzinfo=UTC) for day in (3, 4)]
    await db.night_claims.insert_many([{"property_id": booked, "night": night, "kind": "booking"} for night in nights])

    await m0003_listing_search_fields.up(db, settings)
    await m0003_listing_search_fields.up(db, settings)  # a second run changes nothing

    stored = {row["_id"]: row async for row in db.properties.find({})}
    assert stored[booked]["search_cells"] == cells_of(36.82, -1.29)
    assert sorted(stored[booked]["claimed_nights"]) == nights
    assert stored[free]["search_cells"] == cells_of(39.66, -4.04) and stored[free]["claimed_nights"] == []
