"""Defences against MongoDB operator injection: operator-shaped keys refused, ids checked before any query."""

from collections.abc import Iterator
from typing import Annotated, Any

from bson import ObjectId
from bson.errors import InvalidId
from pydantic import BaseModel, StringConstraints
from pydantic_core import PydanticCustomError

from gateway.problems import NotFound

OBJECT_ID_PATTERN = r"^[0-9a-fA-F]{24}$"
# A 24-hex string, lowercased: valid in the body or query of a request, else a 422 naming the field.
ObjectIdStr = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=OBJECT_ID_PATTERN)]
OPERATOR_KEY_ERROR = "operator_key"


def operator_key_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """The path of every dict key, at any depth, that MongoDB would read as an operator or a field path."""
    if isinstance(value, BaseModel):
        # A nested model has fixed field names and guards its own free-form fields.
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or key.startswith("$") or "." in key or "\x00" in key:
                yield (*path, str(key))
            else:
                yield from operator_key_paths(item, (*path, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from operator_key_paths(item, (*path, index))


def refuse_operator_keys(value: Any) -> Any:
    """A field validator: pass the value through, or refuse the first operator-shaped key with its path."""
    for path in operator_key_paths(value):
        raise PydanticCustomError(
            OPERATOR_KEY_ERROR,
            "keys may not start with '$' or contain '.': {key}",
            {"key": path[-1], "key_path": path},
        )
    return value


def parse_object_id(raw: str) -> ObjectId:
    """An id taken from a URL path: a malformed one names nothing that could exist, so it is a 404."""
    if not isinstance(raw, str) or len(raw) != 24:
        raise NotFound("no such resource")
    try:
        return ObjectId(raw)
    except InvalidId:
        raise NotFound("no such resource") from None
