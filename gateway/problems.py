"""RFC 9457 problem details: the one shape every error answer takes, with stable types (gateway.responses sends them)."""

from typing import Any, ClassVar

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:lango:problem:"
# How much of a client's input an error may quote back: enough to recognise it, never the whole of a hostile one.
INPUT_PREFIX_CHARS = 40
# The request path as `instance`: every route's longest real path fits.
INSTANCE_CHARS = 128
# Every detail the gateway writes fits; one that quotes a vendor's or a library's text is cut.
DETAIL_CHARS = 300


def input_prefix(text: str | None, limit: int = INPUT_PREFIX_CHARS) -> str:
    """`text` cut to its first `limit` characters, an ellipsis marking the cut."""
    if not text:
        return ""
    return text if len(text) <= limit else text[:limit] + "…"


class Problem(Exception):
    """An error a client should see; subclasses fix the status, the stable type slug and the title."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions

    @property
    def type(self) -> str:
        return PROBLEM_TYPE_PREFIX + self.slug

    def body(self, instance: str, request_id: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = input_prefix(self.detail, DETAIL_CHARS)
        body["instance"] = input_prefix(instance, INSTANCE_CHARS)
        if request_id:
            body["request_id"] = request_id
        body.update(self.extensions)
        return body


class MalformedRequest(Problem):
    status, slug, title = 400, "malformed-request", "The request is malformed"


class Unauthenticated(Problem):
    status, slug, title = 401, "unauthenticated", "Authentication is required"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "You may not do this"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(Problem):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "The request conflicts with the current state"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "The request body is too large"


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Send the body as application/json"


class ValidationFailed(Problem):
    status, slug, title = 422, "validation-error", "The request is not valid"


class TooManyRequests(Problem):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, retry_after_s: int, detail: str | None = None) -> None:
        retry_after_s = max(1, int(retry_after_s))
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)}, retry_after=retry_after_s)


class InternalError(Problem):
    status, slug, title = 500, "internal-error", "Internal server error"


class ServiceUnavailable(Problem):
    status, slug, title = 503, "service-unavailable", "A service this request needs is unavailable"
