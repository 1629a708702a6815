"""Give every listing the rating fields search filters and sorts on: no reviews yet, an average of 0."""

from pymongo.asynchronous.database import AsyncDatabase

from gateway.settings import Settings


async def up(db: AsyncDatabase, _: Settings) -> None:
    # Only where missing: a listing reviewed by a gateway already running this version keeps its counts.
    await db.properties.update_many(
        {"rating_count": {"$exists": False}},
        {"$set": {"rating_count": 0, "rating_sum": 0, "rating_average": 0.0, "rating_category_sums": {}}},
    )
