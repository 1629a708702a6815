"""Object storage on local disk for the embedded default, with HMAC-signed upload and download URLs."""

import asyncio
import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, ParamSpec, TypeVar
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from providers.errors import ProviderMisconfigured, SignatureInvalid, VendorRejected, VendorUnavailable
from providers.settings import VendorSettings
from providers.storage.base import (
    ObjectInfo,
    ObjectStore,
    PresignedUpload,
    validate_content_type,
    validate_key,
    validate_lifetime,
    validate_upload_terms,
)

VENDOR = "local"
UPLOAD_KEY_FIELD = "key"
UPLOAD_CONTENT_TYPE_FIELD = "Content-Type"
UPLOAD_MAX_BYTES_FIELD = "x-lango-max-bytes"
UPLOAD_EXPIRES_FIELD = "x-lango-expires"
UPLOAD_SIGNATURE_FIELD = "x-lango-signature"
MIN_SECRET_LENGTH = 32

P = ParamSpec("P")
R = TypeVar("R")


class LocalStorageSettings(VendorSettings):
    """The `storage.local` settings: the directory files are kept in, and the secret that signs their URLs."""

    section: ClassVar[str] = "storage.local"

    root: Path = Path("var/files")
    # Signs upload forms and download URLs; generated at start-up outside production when unset.
    signing_secret: SecretStr | None = Field(None, min_length=MIN_SECRET_LENGTH)


class UploadGrant(BaseModel):
    """The terms a verified upload form grants: which key, which content type, how many bytes at most."""

    model_config = ConfigDict(frozen=True)

    key: str
    content_type: str
    max_bytes: int
    expires_at: datetime


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _sign(secret: bytes, method: str, key: str, expires: int, content_type: str, max_bytes: int) -> str:
    # Keys and content types are validated to contain no newline, so the joined message is unambiguous.
    message = "\n".join((method, key, str(expires), content_type, str(max_bytes))).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _parse_expiry(value: str) -> int:
    if not value.isdigit():
        raise SignatureInvalid("signed URL expiry is not a timestamp", vendor=VENDOR, reason="malformed")
    return int(value)


class LocalObjectStore(ObjectStore):
    """Files under `root/objects`, their content types under `root/meta`; every disk call runs in a thread."""

    name = VENDOR

    def __init__(
        self,
        settings: LocalStorageSettings,
        *,
        upload_url: str,
        download_url: str,
        signing_secret: str,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        """Upload forms post to `upload_url` and downloads are served under `download_url` (the gateway's routes);
        `signing_secret` is the configured one, or one generated for this process."""
        if len(signing_secret) < MIN_SECRET_LENGTH:
            raise ProviderMisconfigured(
                f"{settings.section}.signing_secret must be at least {MIN_SECRET_LENGTH} characters", vendor=VENDOR
            )
        self._secret = signing_secret.encode()
        self._upload_url = upload_url
        self._download_url = download_url.rstrip("/")
        self._clock = clock
        self._objects = settings.root.resolve() / "objects"
        self._meta = settings.root.resolve() / "meta"

    async def presign_upload(self, key: str, content_type: str, max_bytes: int, expires_s: int) -> PresignedUpload:
        validate_key(key)
        validate_upload_terms(content_type, max_bytes, expires_s)
        expires_at = self._expiry(expires_s)
        expires = int(expires_at.timestamp())
        fields = {
            UPLOAD_KEY_FIELD: key,
            UPLOAD_CONTENT_TYPE_FIELD: content_type,
            UPLOAD_MAX_BYTES_FIELD: str(max_bytes),
            UPLOAD_EXPIRES_FIELD: str(expires),
            UPLOAD_SIGNATURE_FIELD: _sign(self._secret, "POST", key, expires, content_type, max_bytes),
        }
        return PresignedUpload(
            key=key,
            url=self._upload_url,
            fields=fields,
            content_type=content_type,
            max_bytes=max_bytes,
            expires_at=expires_at,
        )

    def verify_upload_signature(self, fields: Mapping[str, str]) -> UploadGrant:
        """Check an upload form's signature (constant time) and expiry; return what it grants."""
        try:
            key = fields[UPLOAD_KEY_FIELD]
            content_type = fields[UPLOAD_CONTENT_TYPE_FIELD]
            max_bytes_text = fields[UPLOAD_MAX_BYTES_FIELD]
            expires = _parse_expiry(fields[UPLOAD_EXPIRES_FIELD])
            signature = fields[UPLOAD_SIGNATURE_FIELD]
        except KeyError as missing:
            raise SignatureInvalid(f"upload form lacks {missing}", vendor=VENDOR, reason="malformed") from missing
        if not max_bytes_text.isdigit():
            raise SignatureInvalid("upload size bound is not a number", vendor=VENDOR, reason="malformed")
        max_bytes = int(max_bytes_text)
        validate_key(key)
        validate_content_type(content_type)
        self._check(_sign(self._secret, "POST", key, expires, content_type, max_bytes), signature, expires)
        return UploadGrant(
            key=key,
            content_type=content_type,
            max_bytes=max_bytes,
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    async def store_upload(self, grant: UploadGrant, data: bytes) -> None:
        """Write an upload received under a verified grant, refusing it outside the signed size range."""
        if not 1 <= len(data) <= grant.max_bytes:
            raise VendorRejected(
                f"upload of {len(data)} bytes is outside the signed range 1..{grant.max_bytes}",
                vendor=VENDOR,
                reason="entity_too_large" if data else "entity_too_small",
            )
        await self.put(grant.key, data, grant.content_type)

    def verify_download_signature(self, key: str, expires: str, signature: str) -> None:
        """Check a download URL's signature (constant time) and expiry."""
        expires_at = _parse_expiry(expires)
        validate_key(key)
        self._check(_sign(self._secret, "GET", key, expires_at, "", 0), signature, expires_at)

    def _check(self, expected: str, given: str, expires: int) -> None:
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise SignatureInvalid("signature does not match", vendor=VENDOR, reason="bad_signature")
        if self._clock().timestamp() >= expires:
            raise SignatureInvalid("signed URL has expired", vendor=VENDOR, reason="expired")

    def _expiry(self, expires_s: int) -> datetime:
        return (self._clock() + timedelta(seconds=expires_s)).replace(microsecond=0)

    async def url(self, key: str, expires_s: int) -> str:
        validate_key(key)
        validate_lifetime(expires_s)
        expires = int(self._expiry(expires_s).timestamp())
        query = urlencode({"expires": expires, "signature": _sign(self._secret, "GET", key, expires, "", 0)})
        return f"{self._download_url}/{quote(key)}?{query}"

    async def head(self, key: str) -> ObjectInfo | None:
        return await self._on_disk(self._head_sync, key)

    async def file_path(self, key: str) -> Path:
        """Where the object's bytes are on disk, for serving them with sendfile instead of reading them."""
        object_path, _ = await self._on_disk(self._paths, key)
        return object_path

    async def read_prefix(self, key: str, n: int) -> bytes:
        return await self._on_disk(self._read_sync, key, n)

    async def get(self, key: str) -> bytes:
        return await self._on_disk(self._read_sync, key, None)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self._on_disk(self._put_sync, key, data, content_type)

    async def move(self, source: str, destination: str) -> None:
        await self._on_disk(self._move_sync, source, destination)

    async def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            await self._on_disk(self._delete_sync, key)

    async def _on_disk(self, operation: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await asyncio.to_thread(operation, *args, **kwargs)
        except FileNotFoundError as missing:
            raise VendorRejected("object not found", vendor=VENDOR, reason="not_found") from missing
        except (IsADirectoryError, NotADirectoryError) as clash:
            raise VendorRejected(
                "key clashes with another key's folder", vendor=VENDOR, reason="key_conflict"
            ) from clash
        except OSError as failure:
            raise VendorUnavailable(f"local storage failed: {failure.strerror}", vendor=VENDOR) from failure

    def _paths(self, key: str) -> tuple[Path, Path]:
        validate_key(key)
        object_path = self._objects / key
        # A symlink planted inside the root must not lead writes or reads outside it.
        if not object_path.resolve().is_relative_to(self._objects):
            raise VendorRejected(f"object key {key!r} leaves the storage root", vendor=VENDOR, reason="invalid_key")
        return object_path, self._meta / f"{key}.json"

    def _head_sync(self, key: str) -> ObjectInfo | None:
        object_path, meta_path = self._paths(key)
        try:
            stat = object_path.stat()
        except FileNotFoundError:
            return None
        try:
            content_type = json.loads(meta_path.read_text())["content_type"]
        except (FileNotFoundError, ValueError, KeyError):
            content_type = None
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            content_type=content_type,
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
        )

    def _read_sync(self, key: str, limit: int | None) -> bytes:
        object_path, _ = self._paths(key)
        with object_path.open("rb") as file:
            return file.read() if limit is None else file.read(limit)

    def _put_sync(self, key: str, data: bytes, content_type: str) -> None:
        object_path, meta_path = self._paths(key)
        _write_atomically(object_path, data)
        _write_atomically(meta_path, json.dumps({"content_type": content_type}).encode())

    def _move_sync(self, source: str, destination: str) -> None:
        source_path, source_meta_path = self._paths(source)
        object_path, meta_path = self._paths(destination)
        object_path.parent.mkdir(parents=True, exist_ok=True)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        # A rename is atomic: an upload written to the source meanwhile lands before it (and moves) or after (and stays).
        os.replace(source_path, object_path)
        try:
            os.replace(source_meta_path, meta_path)
        except FileNotFoundError:
            # Uploads write the bytes before the content type; an upload caught in between has none yet.
            meta_path.unlink(missing_ok=True)
        _prune_empty_folders(source_path.parent, self._objects)
        _prune_empty_folders(source_meta_path.parent, self._meta)

    def _delete_sync(self, key: str) -> None:
        object_path, meta_path = self._paths(key)
        object_path.unlink(missing_ok=True)
        meta_path.unlink(missing_ok=True)
        _prune_empty_folders(object_path.parent, self._objects)
        _prune_empty_folders(meta_path.parent, self._meta)


def _write_atomically(path: Path, data: bytes) -> None:
    # Readers see the old file or the new one, never a half-written one.
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _prune_empty_folders(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
