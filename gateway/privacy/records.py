"""Exporters and erasers for documents, declared by the query that finds a person's records and what erasing does."""

import re
from collections.abc import Callable, Iterable
from typing import Any

from beanie import Document
from pydantic_core import to_jsonable_python

from gateway.privacy.registry import DataSubject, Eraser, Exported, Exporter
from gateway.services import Services

Match = Callable[[DataSubject], dict[str, Any]]
ERASED = "[erased]"


def redact(value: Any, needles: Iterable[str]) -> Any:
    """`value` with every string that contains one of `needles` (any case) replaced, keys and nesting kept."""
    lowered = [needle.lower() for needle in needles if needle]

    def walk(item: Any) -> Any:
        # Vendors send phones as numbers too (M-Pesa's PhoneNumber): those are read as their digits.
        if isinstance(item, str | int) and not isinstance(item, bool):
            folded = str(item).lower()
            return ERASED if any(needle in folded for needle in lowered) else item
        if isinstance(item, dict):
            return {key: walk(inner) for key, inner in item.items()}
        if isinstance(item, list | tuple):
            return [walk(inner) for inner in item]
        return item

    return walk(value)


def mask_in_text(text: str, needles: Iterable[str]) -> str:
    """`text` with each occurrence of `needles` (any case) replaced, the rest of it kept: someone else's words that
    name the person (a message to them) stay readable without them."""
    wanted = sorted({needle for needle in needles if needle}, key=len, reverse=True)
    if not wanted:
        return text
    return re.sub("|".join(re.escape(needle) for needle in wanted), ERASED, text, flags=re.IGNORECASE)


def export_documents(document: type[Document], match: Match, *, hidden: tuple[str, ...] = ()) -> Exporter:
    """Every record `match` finds, as stored but for `hidden` fields (secrets, hashes)."""

    async def export(services: Services, subject: DataSubject) -> Exported:
        cursor = document.get_pymongo_collection().find(match(subject), {name: 0 for name in hidden} or None)
        return Exported([as_json(raw) async for raw in cursor])

    return export


def delete_documents(document: type[Document], match: Match) -> Eraser:
    async def erase(services: Services, subject: DataSubject) -> None:
        await document.get_pymongo_collection().delete_many(match(subject))

    return erase


def pseudonymise_documents(
    document: type[Document],
    match: Match,
    replace: Callable[[DataSubject], dict[str, Any]],
    *,
    redacted: tuple[str, ...] = (),
) -> Eraser:
    """Keep the records `match` finds, with `replace`'s values set and the free-form `redacted` fields scrubbed of
    anything naming the person (a vendor's raw payload, an answer kept whole)."""

    async def erase(services: Services, subject: DataSubject) -> None:
        collection = document.get_pymongo_collection()
        changes = replace(subject)
        if not redacted:
            await collection.update_many(match(subject), {"$set": changes})
            return
        async for raw in collection.find(match(subject), {name: 1 for name in redacted}):
            scrubbed = {name: redact(raw[name], subject.needles) for name in redacted if name in raw}
            await collection.update_one({"_id": raw["_id"]}, {"$set": {**changes, **scrubbed}})

    return erase


def id_or_pseudonym(field: str) -> Match:
    """Records naming the person by id or, once erased, by pseudonym: an erasure run again changes nothing more."""
    return lambda subject: {field: {"$in": [subject.user_id, subject.pseudonym]}}


def as_json(value: Any) -> Any:
    """Stored values (ObjectIds, datetimes) as JSON-able ones."""
    return to_jsonable_python(value, fallback=str)
