"""Recognising MongoDB's duplicate-key refusals: how a unique index turns a repeated insert into a no-op."""

from pymongo.errors import BulkWriteError

DUPLICATE_KEY = 11000


def only_duplicates(error: BulkWriteError) -> bool:
    """True when every document the bulk insert refused was already there."""
    return all(failure.get("code") == DUPLICATE_KEY for failure in error.details.get("writeErrors", []))
