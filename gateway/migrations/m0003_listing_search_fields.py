"""Give every listing what search now reads: its cells on the search grid, and the nights its claims hold."""

from collections import defaultdict
from datetime import datetime

from bson import ObjectId
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from documents.search_grid import cells_of
from gateway.settings import Settings

_BATCH = 1_000


async def up(db: AsyncDatabase, _: Settings) -> None:
    claimed: dict[ObjectId, list[datetime]] = defaultdict(list)
    async for claim in db.night_claims.find({}, {"property_id": 1, "night": 1}):
        claimed[claim["property_id"]].append(claim["night"])
    updates: list[UpdateOne] = []
    async for listing in db.properties.find({}, {"location": 1}):
        # $addToSet, not $set: a night claimed by a gateway already running this version is never dropped.
        change = {
            "$set": {"search_cells": cells_of(*listing["location"]["coordinates"])},
            "$addToSet": {"claimed_nights": {"$each": claimed.get(listing["_id"], [])}},
        }
        updates.append(UpdateOne({"_id": listing["_id"]}, change))
        if len(updates) == _BATCH:
            await db.properties.bulk_write(updates, ordered=False)
            updates = []
    if updates:
        await db.properties.bulk_write(updates, ordered=False)
