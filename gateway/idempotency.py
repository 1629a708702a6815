"""Idempotent creation requests: the fingerprint of a body, and the problem for a key reused with another body."""

import hashlib

from pydantic import BaseModel

from gateway.problems import ValidationFailed


class IdempotencyKeyReused(ValidationFailed):
    slug, title = "idempotency-key-reused", "This Idempotency-Key was used for a different request"


def request_fingerprint(body: BaseModel) -> str:
    """What a replay under the same key must match: a hash of the validated body."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()
