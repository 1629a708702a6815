"""Fixtures for the file flows: the gateway on moto's S3 server over HTTP or on local disk, and signed-in users."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.factories import access_token_for, auth_header, create_user
from tests.gateway_apps import gateway_app

ACCESS_KEY = "AKIALANGOFILES000000"
SECRET_KEY = "lango-files-test-secret-access-key-00000"
REGION = "eu-west-1"


@dataclass
class SignedIn:
    user_id: str
    headers: dict[str, str]


@pytest.fixture
def s3_bucket(storage_moto_endpoint: str) -> str:
    bucket = f"lango-files-{uuid.uuid4().hex[:12]}"
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


@pytest.fixture
def s3_app(mongodb_url: str, redis_url: str, storage_moto_endpoint: str, s3_bucket: str) -> web.Application:
    s3 = {
        "bucket": s3_bucket,
        "region": REGION,
        "endpoint_url": storage_moto_endpoint,
        "path_style": True,
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
    }
    return gateway_app(mongodb_url, redis_url, storage={"provider": "s3", "s3": s3})


@pytest.fixture
async def s3_client(aiohttp_client, s3_app: web.Application) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(s3_app)


@pytest.fixture
def local_app(mongodb_url: str, redis_url: str, tmp_path: Path) -> web.Application:
    storage = {"provider": "local", "local": {"root": str(tmp_path / "files")}, "max_server_upload_bytes": 200_000}
    return gateway_app(mongodb_url, redis_url, storage=storage)


@pytest.fixture
async def local_client(aiohttp_client, local_app: web.Application) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(local_app)


async def sign_in(app: web.Application, *roles: str) -> SignedIn:
    user = await create_user(app, roles=roles or ("guest",))
    return SignedIn(user_id=str(user.id), headers=auth_header(access_token_for(app, user)))


@pytest.fixture
async def s3_owner(s3_client: TestClient) -> AsyncIterator[SignedIn]:
    yield await sign_in(s3_client.app, "agent")


@pytest.fixture
async def local_owner(local_client: TestClient) -> AsyncIterator[SignedIn]:
    yield await sign_in(local_client.app, "agent")
