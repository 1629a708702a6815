"""Star ratings kept on what is rated (a listing, a person): count, sum and average moved in one transaction."""

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

RATING_FIELDS = ("rating_count", "rating_sum", "rating_average")


async def apply_rating(
    collection: AsyncCollection,
    match: dict[str, Any],
    overall: int,
    categories: dict[str, int],
    session: AsyncClientSession,
    *,
    sign: int = 1,
    upsert: bool = False,
) -> None:
    """Add (sign 1) or take back (sign -1) one rating; the average follows from the new count and sum in the same
    transaction, so a reader never sees one without the other."""
    increments = {"rating_count": sign, "rating_sum": sign * overall}
    increments |= {f"rating_category_sums.{name}": sign * stars for name, stars in categories.items()}
    await collection.update_one(match, {"$inc": increments}, upsert=upsert, session=session)
    average = {
        "$cond": [{"$gt": ["$rating_count", 0]}, {"$round": [{"$divide": ["$rating_sum", "$rating_count"]}, 2]}, 0]
    }
    await collection.update_one(match, [{"$set": {"rating_average": average}}], session=session)
