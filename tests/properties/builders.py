"""Builders the listing and booking tests share: signed-in users and published listings over real HTTP."""

from typing import Any

from aiohttp.test_utils import TestClient
from bson import ObjectId

from documents.stored_file import FileKind, FileStatus, StoredFile
from tests.factories import access_token_for, auth_header, create_user

NAIROBI = (36.8219, -1.2921)
PROBLEM = "application/problem+json"


async def signed_in(client: TestClient, *roles: str) -> tuple[str, dict[str, str]]:
    """A new user with these roles: their id and the headers that sign requests in as them."""
    user = await create_user(client.app, roles=roles or ("guest",))
    return str(user.id), auth_header(access_token_for(client.app, user))


async def ready_photo(owner_id: str) -> str:
    """A confirmed photo owned by `owner_id`, as the upload flow leaves it; answers its file id."""
    photo = StoredFile(
        owner_id=owner_id,
        kind=FileKind.PHOTO,
        key=f"photos/{owner_id}/{ObjectId()}.jpg",
        declared_type="image/jpeg",
        max_bytes=1_000_000,
        content_type="image/jpeg",
        size=2048,
        status=FileStatus.READY,
    )
    await photo.insert()
    return str(photo.id)


def listing_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Garden flat in Kilimani",
        "description": "<p>Quiet, <strong>sunny</strong> flat.</p>",
        "type": "apartment",
        "bedrooms": 2,
        "bathrooms": 1,
        "max_guests": 4,
        "amenities": ["wifi", "parking"],
        "nightly_price_minor": 500_000,
        "cleaning_fee_minor": 100_000,
        "location": {"type": "Point", "coordinates": list(NAIROBI)},
        "address": {"county": "Nairobi", "town": "Kilimani"},
    }
    body.update(overrides)
    return body


async def published_listing(client: TestClient, agent: dict[str, str], **overrides: Any) -> dict[str, Any]:
    created = await client.post("/v1/properties", json=listing_body(**overrides), headers=agent)
    assert created.status == 201, await created.text()
    listing_id = (await created.json())["id"]
    published = await client.post(f"/v1/properties/{listing_id}/publish", headers=agent)
    assert published.status == 200, await published.text()
    return await published.json()


async def problem_type(response: Any) -> str:
    return (await response.json(content_type=PROBLEM))["type"].removeprefix("urn:lango:problem:")
