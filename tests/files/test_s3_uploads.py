"""Direct uploads through moto's S3 server over HTTP: form, confirmation, thumbnails, signed URLs, deletion."""

from collections.abc import Mapping
from typing import Any

import httpx
from aiohttp.test_utils import TestClient
from beanie import PydanticObjectId

from documents.stored_file import StoredFile
from gateway.state import SERVICES
from providers.storage import thumbnail_keys
from tests.files.conftest import SignedIn, sign_in

pytest_plugins = ["tests.providers.conftest_storage"]
PROBLEM = "urn:lango:problem:"


async def _post_as_a_phone(url: str, fields: Mapping[str, str], data: bytes, claimed_type: str) -> httpx.Response:
    async with httpx.AsyncClient() as phone:
        return await phone.post(url, data=dict(fields), files={"file": ("IMG_0042.jpg", data, claimed_type)})


async def _upload(
    client: TestClient, owner: SignedIn, data: bytes, *, claimed: str = "image/jpeg", size: int | None = None
) -> str:
    answer = await client.post(
        "/v1/files/uploads",
        json={"kind": "photo", "content_type": claimed, "size": size or len(data)},
        headers=owner.headers,
    )
    assert answer.status == 201, await answer.text()
    ticket: dict[str, Any] = await answer.json()
    assert ticket["upload"]["max_bytes"] == (size or len(data))
    stored = await _post_as_a_phone(ticket["upload"]["url"], ticket["upload"]["fields"], data, claimed)
    assert stored.status_code == 204, stored.text
    return str(ticket["file_id"])


async def _stored_keys(client: TestClient, file_id: str) -> list[str]:
    """Every key that exists in the bucket for this file: the original and any rendition."""
    file = await StoredFile.get(PydanticObjectId(file_id))
    assert file is not None
    store = client.app[SERVICES].storage
    return [key for key in [file.key, *thumbnail_keys(file.key)] if await store.head(key) is not None]


async def test_a_photo_goes_from_upload_form_to_thumbnails_to_nothing(
    s3_client: TestClient, s3_owner: SignedIn, storage_sideways_photo: bytes
) -> None:
    file_id = await _upload(s3_client, s3_owner, storage_sideways_photo)

    confirmed = await s3_client.post(f"/v1/files/{file_id}/confirm", headers=s3_owner.headers)
    assert confirmed.status == 200, await confirmed.text()
    view = await confirmed.json()
    assert (view["status"], view["content_type"], view["size"]) == ("ready", "image/jpeg", len(storage_sideways_photo))
    assert [thumbnail["longest_side"] for thumbnail in view["thumbnails"]] == [320, 800, 1600]
    # The stored 400x200 photo says "rotate 90°": its renditions are upright, so portrait.
    assert all(thumbnail["width"] < thumbnail["height"] for thumbnail in view["thumbnails"])
    assert len(await _stored_keys(s3_client, file_id)) == 4

    async with httpx.AsyncClient() as browser:
        original = await browser.get(view["url"])
        thumbnail = await browser.get(view["thumbnails"][0]["url"])
    assert original.content == storage_sideways_photo
    assert thumbnail.headers["content-type"] == "image/webp"
    assert b"Lango Test Phone" not in thumbnail.content

    again = await s3_client.post(f"/v1/files/{file_id}/confirm", headers=s3_owner.headers)
    assert again.status == 200 and (await again.json())["status"] == "ready"

    deleted = await s3_client.delete(f"/v1/files/{file_id}", headers=s3_owner.headers)
    assert deleted.status == 204

    assert await _stored_keys(s3_client, file_id) == []
    gone = await s3_client.get(f"/v1/files/{file_id}", headers=s3_owner.headers)
    assert gone.status == 404
    assert (await gone.json())["type"] == PROBLEM + "file-not-found"


async def test_a_file_claiming_to_be_a_jpeg_that_is_not_an_image_is_refused_and_removed(
    s3_client: TestClient, s3_owner: SignedIn
) -> None:
    disguised = b"<svg xmlns='http://www.w3.org/2000/svg'><script>steal()</script></svg>"
    file_id = await _upload(s3_client, s3_owner, disguised)

    confirmed = await s3_client.post(f"/v1/files/{file_id}/confirm", headers=s3_owner.headers)

    assert confirmed.status == 422
    assert (await confirmed.json())["type"] == PROBLEM + "file-type-refused"
    assert await _stored_keys(s3_client, file_id) == []
    assert (await s3_client.get(f"/v1/files/{file_id}", headers=s3_owner.headers)).status == 404


async def test_a_png_declared_as_a_jpeg_is_refused(s3_client: TestClient, s3_owner: SignedIn) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    file_id = await _upload(s3_client, s3_owner, png, claimed="image/jpeg")

    confirmed = await s3_client.post(f"/v1/files/{file_id}/confirm", headers=s3_owner.headers)

    assert confirmed.status == 422
    assert "image/png" in (await confirmed.json())["detail"]


async def test_more_bytes_than_signed_for_are_refused_at_confirmation(
    s3_client: TestClient, s3_owner: SignedIn, storage_sideways_photo: bytes
) -> None:
    # moto does not enforce the POST policy's size range; real S3 would refuse the POST itself.
    file_id = await _upload(s3_client, s3_owner, storage_sideways_photo, size=1000)

    confirmed = await s3_client.post(f"/v1/files/{file_id}/confirm", headers=s3_owner.headers)

    assert confirmed.status == 413
    assert (await confirmed.json())["type"] == PROBLEM + "file-too-large"
    assert await _stored_keys(s3_client, file_id) == []


async def test_confirming_before_uploading_is_a_conflict(s3_client: TestClient, s3_owner: SignedIn) -> None:
    answer = await s3_client.post(
        "/v1/files/uploads", json={"kind": "photo", "content_type": "image/jpeg", "size": 10}, headers=s3_owner.headers
    )
    file_id = (await answer.json())["file_id"]

    confirmed = await s3_client.post(f"/v1/files/{file_id}/confirm", headers=s3_owner.headers)

    assert confirmed.status == 409
    assert (await confirmed.json())["type"] == PROBLEM + "upload-missing"


async def test_upload_terms_are_checked_before_anything_is_signed(s3_client: TestClient, s3_owner: SignedIn) -> None:
    too_big = await s3_client.post(
        "/v1/files/uploads",
        json={"kind": "photo", "content_type": "image/jpeg", "size": 10**9},
        headers=s3_owner.headers,
    )
    not_a_photo = await s3_client.post(
        "/v1/files/uploads", json={"kind": "photo", "content_type": "text/html", "size": 10}, headers=s3_owner.headers
    )
    anonymous = await s3_client.post("/v1/files/uploads", json={"kind": "photo", "content_type": "image/jpeg", "size": 10})

    assert too_big.status == 413
    assert not_a_photo.status == 422
    assert anonymous.status == 401


async def test_only_the_owner_or_an_admin_may_delete_a_file(
    s3_client: TestClient, s3_owner: SignedIn, storage_sideways_photo: bytes
) -> None:
    file_id = await _upload(s3_client, s3_owner, storage_sideways_photo)
    assert (await s3_client.post(f"/v1/files/{file_id}/confirm", headers=s3_owner.headers)).status == 200
    stranger = await sign_in(s3_client.app, "agent")
    admin = await sign_in(s3_client.app, "admin")

    refused = await s3_client.delete(f"/v1/files/{file_id}", headers=stranger.headers)
    refused_confirm = await s3_client.post(f"/v1/files/{file_id}/confirm", headers=stranger.headers)

    assert refused.status == 404 and refused_confirm.status == 404
    assert len(await _stored_keys(s3_client, file_id)) == 4
    seen_by_stranger = await (await s3_client.get(f"/v1/files/{file_id}", headers=stranger.headers)).json()
    # A listing photo is visible to others, but only as thumbnails: the original keeps the camera's metadata.
    assert seen_by_stranger["url"] is None and len(seen_by_stranger["thumbnails"]) == 3

    assert (await s3_client.delete(f"/v1/files/{file_id}", headers=admin.headers)).status == 204
    assert await _stored_keys(s3_client, file_id) == []


async def test_a_form_posted_again_after_confirmation_changes_nothing_anyone_reads(
    s3_client: TestClient, s3_owner: SignedIn, storage_sideways_photo: bytes
) -> None:
    answer = await s3_client.post(
        "/v1/files/uploads",
        json={"kind": "photo", "content_type": "image/jpeg", "size": len(storage_sideways_photo)},
        headers=s3_owner.headers,
    )
    ticket = await answer.json()
    form = ticket["upload"]
    assert (await _post_as_a_phone(form["url"], form["fields"], storage_sideways_photo, "image/jpeg")).status_code == 204
    confirmed = await (await s3_client.post(f"/v1/files/{ticket['file_id']}/confirm", headers=s3_owner.headers)).json()

    swapped = b"<svg xmlns='http://www.w3.org/2000/svg'><script>steal()</script></svg>"
    assert (await _post_as_a_phone(form["url"], form["fields"], swapped, "image/jpeg")).status_code == 204
    again = await s3_client.post(f"/v1/files/{ticket['file_id']}/confirm", headers=s3_owner.headers)
    served = await (await s3_client.get(f"/v1/files/{ticket['file_id']}", headers=s3_owner.headers)).json()

    assert again.status == 200 and (await again.json())["size"] == confirmed["size"]
    async with httpx.AsyncClient() as browser:
        original = await browser.get(served["url"])
        thumbnail = await browser.get(served["thumbnails"][0]["url"])
    assert original.content == storage_sideways_photo
    assert thumbnail.headers["content-type"] == "image/webp"
    # Deleting the file takes what the second post left too.
    assert (await s3_client.delete(f"/v1/files/{ticket['file_id']}", headers=s3_owner.headers)).status == 204
    file = await StoredFile.get(PydanticObjectId(ticket["file_id"]))
    assert file is not None and await s3_client.app[SERVICES].storage.head(file.upload_key) is None
