"""Newest-first pages keyed by the last id seen: documents created meanwhile never shift or repeat a page."""

from typing import Any, TypeVar

from beanie import Document
from bson import ObjectId

from gateway.problems import MalformedRequest

D = TypeVar("D", bound=Document)


async def newest_first(document: type[D], match: dict[str, Any], after: str | None, limit: int) -> tuple[list[D], str | None]:
    """One page of `document`s matching `match`, and the cursor of the next page (None on the last)."""
    if after is not None:
        if not ObjectId.is_valid(after):
            raise MalformedRequest("the cursor is not one this listing gave out")
        match = {**match, "_id": {"$lt": ObjectId(after)}}
    found = await document.find(match).sort([("_id", -1)]).limit(limit + 1).to_list()
    return found[:limit], str(found[limit - 1].id) if len(found) > limit else None
