"""Who a broadcast or an event reminder reaches: a resolver per audience kind, added by the flows that own the data."""

from collections.abc import Callable
from typing import Any, Protocol

from bson import ObjectId

from documents.user import User
from gateway.problems import ValidationFailed


class Audience(Protocol):
    """A set of users read in ascending id order, a batch at a time, so a job can resume after the last id."""

    async def count(self) -> int: ...

    async def user_ids_after(self, after: str | None, limit: int) -> list[str]: ...


class UsersMatching:
    """Users whose documents match a query: everyone, or the holders of a role."""

    def __init__(self, query: dict[str, Any]) -> None:
        self._query = query

    async def count(self) -> int:
        return await User.find(self._query).count()

    async def user_ids_after(self, after: str | None, limit: int) -> list[str]:
        query = {**self._query, "_id": {"$gt": ObjectId(after)}} if after else self._query
        found = await User.get_pymongo_collection().find(query, {"_id": 1}).sort("_id", 1).limit(limit).to_list()
        return [str(raw["_id"]) for raw in found]


def _everyone(value: str | None) -> Audience:
    return UsersMatching({})


def _role_holders(value: str | None) -> Audience:
    return UsersMatching({"roles": value})


# The tickets flow adds "event": the holders of valid tickets to the event whose id is the audience value.
AUDIENCES: dict[str, Callable[[str | None], Audience]] = {"all": _everyone, "role": _role_holders}


class UnknownAudience(ValidationFailed):
    slug, title = "unknown-audience", "No such audience"


def audience_for(kind: str, value: str | None) -> Audience:
    resolver = AUDIENCES.get(kind)
    if resolver is None:
        raise UnknownAudience(f"audiences available: {', '.join(sorted(AUDIENCES))}")
    return resolver(value)
