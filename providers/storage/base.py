"""The object-storage contract: presigned uploads, reads, writes and signed URLs over opaque keys."""

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from providers.errors import VendorRejected

MAX_KEY_LENGTH = 1024
MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600  # the longest a SigV4 signature may live
_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=@+-]*$")
_CONTENT_TYPE = re.compile(r"^[a-z]+/[a-z0-9][a-z0-9.+-]*$")


class PresignedUpload(BaseModel):
    """What a phone needs to POST a file straight to storage: a URL and the signed form fields."""

    model_config = ConfigDict(frozen=True)

    key: str
    url: str
    fields: dict[str, str]
    content_type: str
    max_bytes: int
    expires_at: datetime


class ObjectInfo(BaseModel):
    """What storage knows about a stored object without reading it."""

    model_config = ConfigDict(frozen=True)

    key: str
    size: int
    content_type: str | None
    last_modified: datetime | None = None


def validate_key(key: str) -> str:
    """Return `key` when it is a safe relative object key; refuse traversal, absolute paths and NUL."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise VendorRejected("object key is empty or too long", reason="invalid_key")
    if key.startswith("/") or "\\" in key or "\x00" in key:
        raise VendorRejected("object key must be a relative path without NUL or backslash", reason="invalid_key")
    # Every segment starts with an alphanumeric, which excludes "", "." and ".." along with hidden files.
    if not all(_KEY_SEGMENT.match(segment) for segment in key.split("/")):
        raise VendorRejected(f"object key {key!r} has an unsafe segment", reason="invalid_key")
    return key


def validate_upload_terms(content_type: str, max_bytes: int, expires_s: int) -> None:
    """Refuse upload terms no store should sign: a malformed type, an empty size bound, an odd lifetime."""
    validate_content_type(content_type)
    if max_bytes < 1:
        raise VendorRejected("max_bytes must be positive", reason="invalid_size")
    validate_lifetime(expires_s)


def validate_content_type(content_type: str) -> str:
    """Return `content_type` when it is a bare lowercase `type/subtype` without parameters."""
    if not _CONTENT_TYPE.match(content_type):
        raise VendorRejected(
            f"content type {content_type!r} is not a plain type/subtype", reason="invalid_content_type"
        )
    return content_type


def validate_lifetime(expires_s: int) -> None:
    """Refuse signed-URL lifetimes that are not between one second and seven days."""
    if not 1 <= expires_s <= MAX_SIGNED_URL_SECONDS:
        raise VendorRejected("a signed URL lives between 1 second and 7 days", reason="invalid_expiry")


class ObjectStore(ABC):
    """Blob storage for user files (listing photos, documents) addressed by keys such as `listings/<id>/<uuid>`."""

    name: str

    @abstractmethod
    async def presign_upload(self, key: str, content_type: str, max_bytes: int, expires_s: int) -> PresignedUpload:
        """Sign a browser-style POST upload bound to this key, content type and size range."""

    @abstractmethod
    async def head(self, key: str) -> ObjectInfo | None:
        """Describe the object, or None when it does not exist."""

    @abstractmethod
    async def read_prefix(self, key: str, n: int) -> bytes:
        """Read at most the first `n` bytes, enough to sniff the real file type."""

    @abstractmethod
    async def get(self, key: str) -> bytes:
        """Read the whole object; a missing object is VendorRejected with reason `not_found`."""

    @abstractmethod
    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing any previous object."""

    @abstractmethod
    async def move(self, source: str, destination: str) -> None:
        """Give the object (bytes and content type) a new key, taken whole from the source at one instant; the source
        is gone afterwards, and what is written to it later stays there. A missing source is VendorRejected with
        reason `not_found`."""

    @abstractmethod
    async def delete(self, keys: Iterable[str]) -> None:
        """Remove the objects; keys that do not exist are ignored."""

    @abstractmethod
    async def url(self, key: str, expires_s: int) -> str:
        """A URL a client can GET the object from: signed and expiring, or a public CDN address."""

    async def open(self) -> None:
        """Get ready before the first request (load what loads slowly); nothing to do unless a store says so."""

    async def close(self) -> None:
        """Release connections held by the store."""
