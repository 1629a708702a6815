"""Object storage on S3 or an S3-compatible service (MinIO, Ceph) through aioboto3."""

import asyncio
import importlib
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from pydantic import Field, SecretStr

from providers.errors import ProviderMisconfigured, VendorRejected, VendorUnavailable
from providers.settings import VendorSettings
from providers.storage.base import (
    ObjectInfo,
    ObjectStore,
    PresignedUpload,
    validate_key,
    validate_lifetime,
    validate_upload_terms,
)

VENDOR = "s3"
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0
DELETE_BATCH = 1000  # DeleteObjects accepts at most 1000 keys per request
_MISCONFIGURATION_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchBucket", "AuthorizationHeaderMalformed"}
)
_RETRY_LATER_CODES = frozenset({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling"})


class S3StorageSettings(VendorSettings):
    """The `storage.s3` settings: bucket, endpoint and credentials; unset credentials use the instance's role."""

    section: ClassVar[str] = "storage.s3"

    bucket: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    region: str = "us-east-1"
    # Another S3-compatible service (MinIO, R2); unset means AWS.
    endpoint_url: str | None = None
    path_style: bool = False
    # A public CDN in front of the bucket: download URLs become <public_base_url>/<key>, unsigned.
    public_base_url: str | None = None
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None


class S3ObjectStore(ObjectStore):
    """One aioboto3 session and one lazily opened client shared by every call until `close()`."""

    name = VENDOR

    def __init__(self, settings: S3StorageSettings) -> None:
        settings.require("bucket", vendor=VENDOR)
        if (settings.access_key_id is None) != (settings.secret_access_key is None):
            raise ProviderMisconfigured(
                "storage.s3.access_key_id and storage.s3.secret_access_key are set together or not at all",
                vendor=VENDOR,
            )
        self._settings = settings
        self._session = aioboto3.Session(
            aws_access_key_id=settings.access_key_id.get_secret_value() if settings.access_key_id else None,
            aws_secret_access_key=settings.secret_access_key.get_secret_value() if settings.secret_access_key else None,
            region_name=settings.region,
        )
        self._exit_stack = AsyncExitStack()
        self._client: Any = None  # botocore builds client classes at runtime
        self._client_lock = asyncio.Lock()

    async def _s3(self) -> Any:
        async with self._client_lock:
            if self._client is None:
                client_config = AioConfig(
                    signature_version="s3v4",
                    s3={"addressing_style": "path" if self._settings.path_style else "auto"},
                    connect_timeout=CONNECT_TIMEOUT_S,
                    read_timeout=READ_TIMEOUT_S,
                    retries={"mode": "standard", "max_attempts": 3},
                )
                self._client = await self._exit_stack.enter_async_context(
                    self._session.client("s3", endpoint_url=self._settings.endpoint_url, config=client_config)
                )
            return self._client

    async def open(self) -> None:
        # botocore reads its S3 models from disk and imports modules when the first client is made; done on the
        # event loop, that stalls every request for a few hundred milliseconds. Warm its caches in a thread instead.
        await asyncio.to_thread(self._load_models)
        await self._s3()

    def _load_models(self) -> None:
        importlib.import_module("aioboto3.s3.inject")
        loader = self._session._session.get_component("data_loader")
        for model in ("service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2"):
            loader.load_service_model("s3", model)
        for data in ("endpoints", "partitions", "sdk-default-configuration"):
            loader.load_data(data)

    async def close(self) -> None:
        async with self._client_lock:
            self._client = None
            await self._exit_stack.aclose()

    async def presign_upload(self, key: str, content_type: str, max_bytes: int, expires_s: int) -> PresignedUpload:
        validate_key(key)
        validate_upload_terms(content_type, max_bytes, expires_s)
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_s)
        async with _translated("presign upload"):
            s3 = await self._s3()
            # The policy S3 checks on POST: this exact key, this exact type, 1..max_bytes bytes.
            form = await s3.generate_presigned_post(
                Bucket=self._settings.bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
                ExpiresIn=expires_s,
            )
        return PresignedUpload(
            key=key,
            url=form["url"],
            fields=form["fields"],
            content_type=content_type,
            max_bytes=max_bytes,
            expires_at=expires_at,
        )

    async def head(self, key: str) -> ObjectInfo | None:
        validate_key(key)
        try:
            async with _translated("head"):
                answer = await (await self._s3()).head_object(Bucket=self._settings.bucket, Key=key)
        except VendorRejected as rejected:
            if rejected.reason in {"404", "NoSuchKey"}:
                return None
            raise
        return ObjectInfo(
            key=key,
            size=answer["ContentLength"],
            content_type=answer.get("ContentType"),
            last_modified=answer.get("LastModified"),
        )

    async def read_prefix(self, key: str, n: int) -> bytes:
        validate_key(key)
        if n <= 0:
            return b""
        try:
            return await self._read(key, Range=f"bytes=0-{n - 1}")
        except VendorRejected as rejected:
            # S3 answers 416 to a range request on an empty object.
            if rejected.reason == "InvalidRange":
                return b""
            raise

    async def get(self, key: str) -> bytes:
        validate_key(key)
        return await self._read(key)

    async def _read(self, key: str, **range_arguments: str) -> bytes:
        async with _translated("get"):
            answer = await (await self._s3()).get_object(Bucket=self._settings.bucket, Key=key, **range_arguments)
            async with answer["Body"] as body:
                return await body.read()

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        validate_key(key)
        async with _translated("put"):
            await (await self._s3()).put_object(
                Bucket=self._settings.bucket, Key=key, Body=data, ContentType=content_type
            )

    async def move(self, source: str, destination: str) -> None:
        validate_key(source)
        validate_key(destination)
        bucket = self._settings.bucket
        try:
            async with _translated("move"):
                # A server-side copy: S3 reads the source as it is at one instant, whatever is posted to it meanwhile.
                await (await self._s3()).copy_object(
                    Bucket=bucket, Key=destination, CopySource={"Bucket": bucket, "Key": source}
                )
        except VendorRejected as rejected:
            if rejected.reason in {"404", "NoSuchKey"}:
                raise VendorRejected("object not found", vendor=VENDOR, reason="not_found") from rejected
            raise
        await self.delete([source])

    async def delete(self, keys: Iterable[str]) -> None:
        unique_keys = list(dict.fromkeys(validate_key(key) for key in keys))
        for start in range(0, len(unique_keys), DELETE_BATCH):
            batch = unique_keys[start : start + DELETE_BATCH]
            async with _translated("delete"):
                answer = await (await self._s3()).delete_objects(
                    Bucket=self._settings.bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
                )
            if errors := answer.get("Errors"):
                first = errors[0]
                raise VendorUnavailable(
                    f"S3 kept {len(errors)} objects, first {first.get('Key')!r}: {first.get('Message')}",
                    vendor=VENDOR,
                    reason=first.get("Code"),
                )

    async def url(self, key: str, expires_s: int) -> str:
        validate_key(key)
        validate_lifetime(expires_s)
        if self._settings.public_base_url:
            return f"{self._settings.public_base_url.rstrip('/')}/{quote(key)}"
        async with _translated("sign download"):
            return await (await self._s3()).generate_presigned_url(
                "get_object", Params={"Bucket": self._settings.bucket, "Key": key}, ExpiresIn=expires_s
            )


@asynccontextmanager
async def _translated(operation: str) -> AsyncIterator[None]:
    """Turn botocore's errors into the project's, by what the caller can do about them."""
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "unknown"))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        message = f"S3 {operation} failed: {code}"
        if code in _MISCONFIGURATION_CODES or status == 403:
            raise ProviderMisconfigured(message, vendor=VENDOR, reason=code) from error
        if code in _RETRY_LATER_CODES or status >= 500 or status == 429:
            raise VendorUnavailable(message, vendor=VENDOR, reason=code) from error
        raise VendorRejected(message, vendor=VENDOR, reason=code) from error
    except NoCredentialsError as error:
        raise ProviderMisconfigured(f"S3 {operation} failed: no credentials", vendor=VENDOR) from error
    except BotoCoreError as error:
        raise VendorUnavailable(f"S3 {operation} failed: {error}", vendor=VENDOR) from error
