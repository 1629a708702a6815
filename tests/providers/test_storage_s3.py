"""The S3 store against moto's S3 server over real HTTP: a phone's presigned upload through to deletion."""

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import boto3
import httpx
import pytest

from providers.errors import ProviderMisconfigured, VendorRejected
from providers.storage import (
    SNIFF_BYTES,
    S3ObjectStore,
    S3StorageSettings,
    render_thumbnails,
    sniff_content_type,
    thumbnail_keys,
)

pytest_plugins = ["tests.providers.conftest_storage"]

ACCESS_KEY = "AKIALANGOTEST0000000"
SECRET_KEY = "lango-test-secret-access-key-0000000000"
REGION = "eu-west-1"
MAX_PHOTO_BYTES = 200_000


@pytest.fixture
def s3_bucket(storage_moto_endpoint: str) -> str:
    bucket = f"lango-{uuid.uuid4().hex[:12]}"
    admin = boto3.client(
        "s3",
        endpoint_url=storage_moto_endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    admin.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    admin.close()
    return bucket


def _config(endpoint: str, bucket: str, **overrides: Any) -> S3StorageSettings:
    settings = {
        "bucket": bucket,
        "region": REGION,
        "endpoint_url": endpoint,
        "path_style": True,
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
    }
    return S3StorageSettings.model_validate(settings | overrides)


@pytest.fixture
async def s3_store(storage_moto_endpoint: str, s3_bucket: str) -> AsyncIterator[S3ObjectStore]:
    store = S3ObjectStore(_config(storage_moto_endpoint, s3_bucket))
    yield store
    await store.close()


async def _post_as_a_phone(url: str, fields: Mapping[str, str], data: bytes, claimed_type: str) -> httpx.Response:
    async with httpx.AsyncClient() as phone:
        return await phone.post(url, data=dict(fields), files={"file": ("IMG_0042.jpg", data, claimed_type)})


def _s3_post_policy_refusal(fields: Mapping[str, str], bucket: str, file_size: int) -> str | None:
    """What S3 checks on a POST upload (moto skips it): the SigV4 signature over the policy, then its conditions."""
    credential_date, region, service = fields["x-amz-credential"].split("/")[1:4]
    signing_key = f"AWS4{SECRET_KEY}".encode()
    for part in (credential_date, region, service, "aws4_request"):
        signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(signing_key, fields["policy"].encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields["x-amz-signature"]):
        return "SignatureDoesNotMatch"
    form = {**fields, "bucket": bucket}
    for condition in json.loads(base64.b64decode(fields["policy"]))["conditions"]:
        if isinstance(condition, dict):
            ((name, value),) = condition.items()
            if form.get(name) != value:
                return f"AccessDenied: {name}"
        elif condition[0] == "content-length-range":
            if not condition[1] <= file_size <= condition[2]:
                return "EntityTooLarge" if file_size > condition[2] else "EntityTooSmall"
        elif condition[0] == "eq" and form.get(condition[1].lstrip("$")) != condition[2]:
            return f"AccessDenied: {condition[1]}"
    return None


async def test_a_phone_uploads_a_photo_that_is_checked_thumbnailed_and_deleted(
    s3_store: S3ObjectStore, s3_bucket: str, storage_sideways_photo: bytes
) -> None:
    key = f"listings/{uuid.uuid4().hex}/photo-1"
    upload = await s3_store.presign_upload(key, "image/jpeg", MAX_PHOTO_BYTES, 600)
    assert upload.url.endswith(f"/{s3_bucket}")
    assert _s3_post_policy_refusal(upload.fields, s3_bucket, len(storage_sideways_photo)) is None

    answer = await _post_as_a_phone(upload.url, upload.fields, storage_sideways_photo, "image/jpeg")
    assert answer.status_code == 204, answer.text

    info = await s3_store.head(key)
    assert info is not None and info.size == len(storage_sideways_photo)
    assert sniff_content_type(await s3_store.read_prefix(key, SNIFF_BYTES)) == "image/jpeg"

    for thumbnail in await render_thumbnails(key, await s3_store.get(key)):
        await s3_store.put(thumbnail.key, thumbnail.data, thumbnail.content_type)
    stored_thumbnail = await s3_store.head(thumbnail_keys(key)[0])
    assert stored_thumbnail is not None and stored_thumbnail.content_type == "image/webp"

    await s3_store.delete([key, *thumbnail_keys(key)])

    for gone in [key, *thumbnail_keys(key)]:
        assert await s3_store.head(gone) is None


async def test_the_size_bound_and_type_are_signed_into_the_upload_policy(
    s3_store: S3ObjectStore, s3_bucket: str
) -> None:
    upload = await s3_store.presign_upload("listings/l1/photo-1", "image/jpeg", MAX_PHOTO_BYTES, 600)
    conditions = json.loads(base64.b64decode(upload.fields["policy"]))["conditions"]

    assert ["content-length-range", 1, MAX_PHOTO_BYTES] in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert {"key": "listings/l1/photo-1"} in conditions
    assert _s3_post_policy_refusal(upload.fields, s3_bucket, MAX_PHOTO_BYTES) is None
    assert _s3_post_policy_refusal(upload.fields, s3_bucket, MAX_PHOTO_BYTES + 1) == "EntityTooLarge"
    assert _s3_post_policy_refusal({**upload.fields, "Content-Type": "text/html"}, s3_bucket, 10) is not None
    assert _s3_post_policy_refusal({**upload.fields, "key": "listings/l2/x"}, s3_bucket, 10) is not None

    widened = [
        ["content-length-range", 1, 10 * MAX_PHOTO_BYTES] if isinstance(condition, list) else condition
        for condition in conditions
    ]
    policy = json.loads(base64.b64decode(upload.fields["policy"])) | {"conditions": widened}
    forged = {**upload.fields, "policy": base64.b64encode(json.dumps(policy).encode()).decode()}
    assert _s3_post_policy_refusal(forged, s3_bucket, MAX_PHOTO_BYTES + 1) == "SignatureDoesNotMatch"


async def test_a_file_posted_as_jpeg_that_is_not_an_image_is_caught_by_sniffing(s3_store: S3ObjectStore) -> None:
    key = "listings/l1/photo-2"
    upload = await s3_store.presign_upload(key, "image/jpeg", MAX_PHOTO_BYTES, 600)
    disguised = b"<svg xmlns='http://www.w3.org/2000/svg'><script>steal()</script></svg>"

    answer = await _post_as_a_phone(upload.url, upload.fields, disguised, "image/jpeg")
    assert answer.status_code == 204

    assert sniff_content_type(await s3_store.read_prefix(key, SNIFF_BYTES)) is None
    with pytest.raises(VendorRejected):
        await render_thumbnails(key, await s3_store.get(key))


async def test_reads_of_missing_and_empty_objects(s3_store: S3ObjectStore) -> None:
    await s3_store.put("listings/l1/empty", b"", "application/octet-stream")

    assert await s3_store.read_prefix("listings/l1/empty", SNIFF_BYTES) == b""
    assert await s3_store.head("listings/l1/missing") is None
    with pytest.raises(VendorRejected) as missing:
        await s3_store.get("listings/l1/missing")
    assert missing.value.reason == "NoSuchKey"


async def test_download_urls_are_signed_or_served_from_the_cdn(
    storage_moto_endpoint: str, s3_bucket: str, s3_store: S3ObjectStore
) -> None:
    await s3_store.put("listings/l1/p1", b"photo-bytes", "image/jpeg")

    async with httpx.AsyncClient() as browser:
        answer = await browser.get(await s3_store.url("listings/l1/p1", 60))
    assert answer.content == b"photo-bytes"

    cdn = S3ObjectStore(_config(storage_moto_endpoint, s3_bucket, public_base_url="https://cdn.lango.test/"))
    assert await cdn.url("listings/l1/p1", 60) == "https://cdn.lango.test/listings/l1/p1"
    await cdn.close()


async def test_a_missing_bucket_is_a_deployment_problem(storage_moto_endpoint: str) -> None:
    store = S3ObjectStore(_config(storage_moto_endpoint, "no-such-bucket-here"))

    with pytest.raises(ProviderMisconfigured) as misconfigured:
        await store.put("listings/l1/p1", b"x", "image/jpeg")

    assert misconfigured.value.reason == "NoSuchBucket"
    await store.close()


def test_half_a_credential_pair_fails_at_start() -> None:
    with pytest.raises(ProviderMisconfigured, match="access_key_id"):
        S3ObjectStore(S3StorageSettings(bucket="lango-files", access_key_id=ACCESS_KEY))


async def test_unsafe_keys_never_reach_s3(s3_store: S3ObjectStore) -> None:
    with pytest.raises(VendorRejected):
        await s3_store.presign_upload("../other-tenant/photo", "image/jpeg", 10, 60)


async def test_a_move_takes_the_bytes_and_type_and_leaves_the_source_free(s3_store: S3ObjectStore) -> None:
    await s3_store.put("uploads/u1/f1", b"photo-bytes", "image/jpeg")

    await s3_store.move("uploads/u1/f1", "files/u1/f1.a1")
    await s3_store.put("uploads/u1/f1", b"posted-again", "image/jpeg")

    moved = await s3_store.head("files/u1/f1.a1")
    assert moved is not None and moved.content_type == "image/jpeg"
    assert await s3_store.get("files/u1/f1.a1") == b"photo-bytes"
    with pytest.raises(VendorRejected) as missing:
        await s3_store.move("uploads/u1/never-posted", "files/u1/f2.a1")
    assert missing.value.reason == "not_found"
