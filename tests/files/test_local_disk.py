"""The local-disk store end to end through the gateway's own routes: signed form, confirmation, signed downloads."""

from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

from aiohttp import FormData
from aiohttp.test_utils import TestClient
from PIL import Image

from tests.files.conftest import SignedIn, sign_in

pytest_plugins = ["tests.providers.conftest_storage"]
PROBLEM = "urn:lango:problem:"


def _path(url: str) -> str:
    """The gateway-relative part of a URL built from server.public_url."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _form(fields: dict[str, str], data: bytes, content_type: str) -> FormData:
    form = FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field("file", data, filename="IMG_0042.jpg", content_type=content_type)
    return form


async def _ticket(client: TestClient, owner: SignedIn, size: int, kind: str = "photo", content_type: str = "image/jpeg") -> dict[str, Any]:
    answer = await client.post(
        "/v1/files/uploads", json={"kind": kind, "content_type": content_type, "size": size}, headers=owner.headers
    )
    assert answer.status == 201, await answer.text()
    return dict(await answer.json())


async def _posted(client: TestClient, owner: SignedIn, data: bytes) -> dict[str, Any]:
    """A photo's upload ticket, its form already posted with `data`."""
    ticket = await _ticket(client, owner, len(data))
    upload = ticket["upload"]
    stored = await client.post(_path(upload["url"]), data=_form(upload["fields"], data, "image/jpeg"))
    assert stored.status == 204, await stored.text()
    return ticket


async def test_a_photo_round_trip_through_the_local_upload_and_download_routes(
    local_client: TestClient, local_owner: SignedIn, storage_sideways_photo: bytes
) -> None:
    ticket = await _posted(local_client, local_owner, storage_sideways_photo)

    confirmed = await local_client.post(f"/v1/files/{ticket['file_id']}/confirm", headers=local_owner.headers)
    assert confirmed.status == 200, await confirmed.text()
    view = await confirmed.json()

    original = await local_client.get(_path(view["url"]))
    assert original.status == 200
    assert original.headers["Content-Type"] == "image/jpeg"
    assert await original.read() == storage_sideways_photo
    smallest = await local_client.get(_path(view["thumbnails"][0]["url"]))
    assert smallest.headers["Content-Type"] == "image/webp"
    with Image.open(BytesIO(await smallest.read())) as thumbnail:
        assert thumbnail.size == (view["thumbnails"][0]["width"], view["thumbnails"][0]["height"])
        assert not thumbnail.getexif()

    assert (await local_client.delete(f"/v1/files/{ticket['file_id']}", headers=local_owner.headers)).status == 204
    assert (await local_client.get(_path(view["url"]))).status == 404
    assert (await local_client.get(_path(view["thumbnails"][0]["url"]))).status == 404


async def test_a_tampered_or_unsigned_download_is_refused(
    local_client: TestClient, local_owner: SignedIn, storage_sideways_photo: bytes
) -> None:
    uploaded = await local_client.post(
        "/v1/files?kind=photo", data=storage_sideways_photo, headers={**local_owner.headers, "Content-Type": "image/jpeg"}
    )
    url = _path((await uploaded.json())["url"])
    path, query = url.split("?")

    tampered = await local_client.get(f"{path}?{query[:-4]}beef")
    unsigned = await local_client.get(path)
    other_key = await local_client.get(f"{path}.w320.webp?{query}")

    for refused in (tampered, unsigned, other_key):
        assert refused.status == 403
        assert (await refused.json())["type"] == PROBLEM + "signature-refused"


async def test_the_local_upload_route_holds_the_phone_to_the_signed_terms(
    local_client: TestClient, local_owner: SignedIn, storage_sideways_photo: bytes
) -> None:
    ticket = await _ticket(local_client, local_owner, 1000)
    fields = ticket["upload"]["fields"]

    too_big = await local_client.post(_path(ticket["upload"]["url"]), data=_form(fields, storage_sideways_photo, "image/jpeg"))
    forged = await local_client.post(
        _path(ticket["upload"]["url"]), data=_form({**fields, "x-lango-max-bytes": "99999999"}, b"x" * 10, "image/jpeg")
    )
    no_file = await local_client.post(_path(ticket["upload"]["url"]), data=dict(fields))

    assert too_big.status == 413
    assert forged.status == 403
    assert no_file.status == 400


async def test_small_files_upload_through_the_gateway_with_the_same_checks(
    local_client: TestClient, local_owner: SignedIn, storage_sideways_photo: bytes
) -> None:
    jpeg = {**local_owner.headers, "Content-Type": "image/jpeg"}

    photo = await local_client.post("/v1/files?kind=photo", data=storage_sideways_photo, headers=jpeg)
    fake = await local_client.post("/v1/files?kind=photo", data=b"%PDF-1.7 not a photo at all" * 4, headers=jpeg)
    huge = await local_client.post("/v1/files?kind=photo", data=storage_sideways_photo + bytes(200_001), headers=jpeg)
    document = await local_client.post(
        "/v1/files?kind=document", data=b"%PDF-1.7\n" + b"0" * 300, headers={**local_owner.headers, "Content-Type": "application/pdf"}
    )

    assert photo.status == 201, await photo.text()
    assert len((await photo.json())["thumbnails"]) == 3
    assert fake.status == 422
    assert huge.status == 413
    assert document.status == 201
    assert (await document.json())["content_type"] == "application/pdf"


async def test_documents_are_private_and_photos_show_only_their_thumbnails_to_others(
    local_client: TestClient, local_owner: SignedIn, storage_sideways_photo: bytes
) -> None:
    document = await local_client.post(
        "/v1/files?kind=document", data=b"%PDF-1.7\n" + b"0" * 300, headers={**local_owner.headers, "Content-Type": "application/pdf"}
    )
    photo = await local_client.post(
        "/v1/files?kind=photo", data=storage_sideways_photo, headers={**local_owner.headers, "Content-Type": "image/jpeg"}
    )
    stranger = await sign_in(local_client.app)

    hidden = await local_client.get(f"/v1/files/{(await document.json())['id']}", headers=stranger.headers)
    shown = await local_client.get(f"/v1/files/{(await photo.json())['id']}", headers=stranger.headers)
    not_deleted = await local_client.delete(f"/v1/files/{(await photo.json())['id']}", headers=stranger.headers)

    assert hidden.status == 404
    assert shown.status == 200
    assert (await shown.json())["url"] is None
    assert not_deleted.status == 404
    assert (await local_client.get(f"/v1/files/{(await photo.json())['id']}", headers=local_owner.headers)).status == 200


async def test_a_form_posted_again_after_confirmation_changes_nothing_anyone_reads(
    local_client: TestClient, local_owner: SignedIn, storage_sideways_photo: bytes
) -> None:
    ticket = await _posted(local_client, local_owner, storage_sideways_photo)
    assert (await local_client.post(f"/v1/files/{ticket['file_id']}/confirm", headers=local_owner.headers)).status == 200

    swapped = b"<svg xmlns='http://www.w3.org/2000/svg'><script>steal()</script></svg>"
    upload = ticket["upload"]
    second = await local_client.post(_path(upload["url"]), data=_form(upload["fields"], swapped, "image/jpeg"))
    again = await local_client.post(f"/v1/files/{ticket['file_id']}/confirm", headers=local_owner.headers)
    view = await (await local_client.get(f"/v1/files/{ticket['file_id']}", headers=local_owner.headers)).json()

    assert second.status == 204 and again.status == 200
    assert await (await local_client.get(_path(view["url"]))).read() == storage_sideways_photo
    assert (await local_client.get(_path(view["thumbnails"][0]["url"]))).headers["Content-Type"] == "image/webp"
