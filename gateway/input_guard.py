"""Defences of MongoDB against request input: operator-shaped keys and integers BSON cannot hold refused, ids checked
before any query."""

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
INT64_ERROR = "int64_out_of_range"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


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
            "keys may not start with '$' or contain '.'",
            {"key_path": path},
        )
    return value


def oversized_int_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """The path of every integer, at any depth and in nested models too, that a BSON int64 cannot hold."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value <= INT64_MAX:
            yield path
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from oversized_int_paths(getattr(value, name), (*path, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from oversized_int_paths(item, (*path, str(key)))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from oversized_int_paths(item, (*path, index))


def refuse_oversized_ints(value: Any) -> Any:
    """A field validator: a field without bounds of its own still never carries an integer MongoDB would refuse."""
    for path in oversized_int_paths(value):
        raise PydanticCustomError(INT64_ERROR, "integers must fit in 64 bits", {"key_path": path})
    return value


def parse_object_id(raw: str) -> ObjectId:
    """An id taken from a URL path: a malformed one names nothing that could exist, so it is a 404."""
    if not isinstance(raw, str) or len(raw) != 24:
        raise NotFound("no such resource")
    try:
        return ObjectId(raw)
    except InvalidId:
        raise NotFound("no such resource") from None
