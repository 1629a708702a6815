"""Idempotent creation requests: the Idempotency-Key header, the fingerprint of a body, and the problem for a reused key."""

import hashlib
import re

from aiohttp import web
from pydantic import BaseModel

from gateway.problems import MalformedRequest, ValidationFailed

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,128}")


class IdempotencyKeyReused(ValidationFailed):
    slug, title = "idempotency-key-reused", "This Idempotency-Key was used for a different request"


def idempotency_key(request: web.Request) -> str | None:
    """The request's Idempotency-Key header, if sent; 400 when it is not 8-128 safe characters."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise MalformedRequest("Idempotency-Key must be 8-128 characters of letters, digits and . _ : -")
    return key


def request_fingerprint(body: BaseModel) -> str:
    """What a replay under the same key must match: a hash of the validated body."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()
