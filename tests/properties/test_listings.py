"""Agents' listings over HTTP: validation, sanitised descriptions, partial updates, states, and who may do what."""

from aiohttp.test_utils import TestClient
from bson import ObjectId

from documents.stored_file import FileStatus, StoredFile
from tests.properties.builders import PROBLEM, listing_body, problem_type, published_listing, ready_photo, signed_in


async def test_an_agent_creates_a_draft_with_a_sanitised_description(client: TestClient) -> None:
    agent_id, agent = await signed_in(client, "agent")
    hostile = '<p onclick="steal()">Lovely <script>alert(1)</script><a href="http://x">view</a></p><img src=x onerror=y>'
    photos = [await ready_photo(agent_id), await ready_photo(agent_id)]
    response = await client.post("/v1/properties", json=listing_body(description=hostile, photo_ids=photos), headers=agent)
    assert response.status == 201
    listing = await response.json()
    assert listing["description_html"] == "<p>Lovely view</p>"
    assert listing["status"] == "draft" and listing["agent_id"] == agent_id
    assert listing["currency"] == "KES" and listing["cover_photo_id"] == photos[0]
    assert listing["cancellation_policy"] == {"full_refund_days": 7, "partial_refund_days": 2, "partial_refund_percent": 50}


async def test_validation_lists_each_bad_field(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    body = listing_body(
        title="",
        nightly_price_minor=12.5,
        currency="EUR",
        location={"type": "Point", "coordinates": [200, 0]},
        photo_ids=["../../etc/passwd"],
        surprise=True,
    )
    response = await client.post("/v1/properties", json=body, headers=agent)
    assert response.status == 422
    fields = {error["field"] for error in (await response.json(content_type=PROBLEM))["errors"]}
    assert {"body.title", "body.nightly_price_minor", "body.currency", "body.location.coordinates", "body.surprise"} <= fields
    assert any(field.startswith("body.photo_ids") for field in fields)


async def test_partial_update_changes_only_what_is_named(client: TestClient) -> None:
    agent_id, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    photo = await ready_photo(agent_id)
    response = await client.patch(
        f"/v1/properties/{listing['id']}",
        json={"nightly_price_minor": 650_000, "photo_ids": [photo], "description": "<b>new</b><iframe></iframe>"},
        headers=agent,
    )
    assert response.status == 200
    changed = await response.json()
    assert changed["nightly_price_minor"] == 650_000 and changed["title"] == listing["title"]
    assert changed["photo_ids"] == [photo] and changed["cover_photo_id"] == photo
    assert changed["description_html"] == "<b>new</b>"
    bad = await client.patch(f"/v1/properties/{listing['id']}", json={"cover_photo_id": "photo-zzzz9999", "title": None}, headers=agent)
    assert bad.status == 422


async def test_states_move_forward_and_archived_listings_are_frozen(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    again = await client.post(f"/v1/properties/{listing['id']}/publish", headers=agent)
    assert again.status == 409 and await problem_type(again) == "listing-state-conflict"
    archived = await client.post(f"/v1/properties/{listing['id']}/archive", headers=agent)
    assert (await archived.json())["status"] == "archived"
    frozen = await client.patch(f"/v1/properties/{listing['id']}", json={"title": "Back again"}, headers=agent)
    assert frozen.status == 409
    _, guest = await signed_in(client)
    assert (await client.get(f"/v1/properties/{listing['id']}", headers=guest)).status == 404


async def test_admins_unpublish_and_nobody_else_does(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    assert (await client.post(f"/v1/properties/{listing['id']}/unpublish", headers=agent)).status == 403
    _, admin = await signed_in(client, "admin")
    response = await client.post(f"/v1/properties/{listing['id']}/unpublish", headers=admin)
    assert (await response.json())["status"] == "draft"
    _, guest = await signed_in(client)
    assert (await client.get(f"/v1/properties/{listing['id']}", headers=guest)).status == 404
    assert (await client.get(f"/v1/properties/{listing['id']}", headers=agent)).status == 200


async def test_other_users_cannot_see_drafts_or_change_listings(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    draft = await (await client.post("/v1/properties", json=listing_body(), headers=agent)).json()
    published = await published_listing(client, agent)
    _, other_agent = await signed_in(client, "agent")
    _, guest = await signed_in(client)
    assert (await client.get(f"/v1/properties/{draft['id']}", headers=other_agent)).status == 404
    assert (await client.get(f"/v1/properties/{published['id']}", headers=guest)).status == 200
    for action in ("publish", "archive"):
        assert (await client.post(f"/v1/properties/{draft['id']}/{action}", headers=other_agent)).status == 404
        assert (await client.post(f"/v1/properties/{published['id']}/{action}", headers=other_agent)).status == 403
    change = await client.patch(f"/v1/properties/{published['id']}", json={"title": "Mine now"}, headers=other_agent)
    assert change.status == 403
    assert (await client.post("/v1/properties", json=listing_body(), headers=guest)).status == 403
    assert (await client.get(f"/v1/properties/{draft['id']}")).status == 401
    assert (await client.get("/v1/properties/not-an-id", headers=guest)).status == 404


async def test_agents_list_their_own_listings_in_every_state(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    draft = await (await client.post("/v1/properties", json=listing_body(title="My draft"), headers=agent)).json()
    published = await published_listing(client, agent, title="My published")
    _, other_agent = await signed_in(client, "agent")
    await published_listing(client, other_agent, title="Not mine")
    first = await (await client.get("/v1/me/properties", params={"limit": "1"}, headers=agent)).json()
    second = await (await client.get("/v1/me/properties", params={"cursor": first["next_cursor"]}, headers=agent)).json()
    assert [item["id"] for item in first["items"] + second["items"]] == [published["id"], draft["id"]]
    assert second["next_cursor"] is None
    _, guest = await signed_in(client)
    assert (await client.get("/v1/me/properties", headers=guest)).status == 403


async def test_the_calendar_shows_taken_nights_but_not_who_took_them(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    listing = await published_listing(client, agent)
    window = {"start": "2031-03-01", "end": "2031-03-03"}
    assert (await client.post(f"/v1/properties/{listing['id']}/blocks", json=window, headers=agent)).status == 201
    _, guest = await signed_in(client)
    calendar = await client.get(f"/v1/properties/{listing['id']}/calendar", params={"start": "2031-02-28", "end": "2031-03-05"}, headers=guest)
    assert await calendar.json() == {
        "property_id": listing["id"],
        "taken": [{"night": "2031-03-01", "kind": "blocked"}, {"night": "2031-03-02", "kind": "blocked"}],
    }
    draft = await (await client.post("/v1/properties", json=listing_body(), headers=agent)).json()
    hidden = await client.get(f"/v1/properties/{draft['id']}/calendar", params=window, headers=guest)
    assert hidden.status == 404


async def test_only_the_agents_own_confirmed_photos_can_be_attached(client: TestClient) -> None:
    agent_id, agent = await signed_in(client, "agent")
    other_id, _ = await signed_in(client, "agent")
    someone_elses = await ready_photo(other_id)
    refused = await client.post("/v1/properties", json=listing_body(photo_ids=[someone_elses]), headers=agent)
    assert refused.status == 404
    own = await ready_photo(agent_id)
    accepted = await client.post("/v1/properties", json=listing_body(photo_ids=[own]), headers=agent)
    assert accepted.status == 201


async def test_archiving_a_listing_removes_its_photos(client: TestClient) -> None:
    agent_id, agent = await signed_in(client, "agent")
    photo = await ready_photo(agent_id)
    listing = await published_listing(client, agent, photo_ids=[photo])
    archived = await client.post(f"/v1/properties/{listing['id']}/archive", headers=agent)
    assert archived.status == 200
    stored = await StoredFile.get(ObjectId(photo))
    assert stored is not None and stored.status == FileStatus.DELETED
