"""JSON encoding and decoding with orjson (gateway.responses answers routes with it)."""

from typing import Any

import orjson

JSON_CONTENT_TYPE = "application/json"


class JsonTooDeep(ValueError):
    """A JSON document nests deeper than the configured limit."""


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC)


def loads(raw: bytes | str, max_depth: int) -> Any:
    """Decode JSON, refusing documents nested deeper than `max_depth`."""
    value = orjson.loads(raw)
    if _depth_exceeds(value, max_depth):
        raise JsonTooDeep(f"JSON nests deeper than {max_depth} levels")
    return value


def _depth_exceeds(value: Any, max_depth: int) -> bool:
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > max_depth:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
