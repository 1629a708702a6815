"""The inbox: every notification stored, paged by cursor, marked read, and pushed live as `notification.created`."""

from aiohttp.test_utils import TestClient

from documents.notification import NotificationKind
from gateway.messaging.bus import Published
from gateway.notifications import notify
from gateway.state import SERVICES
from tests.factories import access_token_for, auth_header, create_user
from tests.notifications.conftest import Start

BROADCAST = {"title": "Scheduled maintenance", "message": "Payments pause on Sunday from 02:00 to 03:00."}


async def _signed_in(client: TestClient) -> tuple[str, dict[str, str]]:
    user = await create_user(client.app)
    return str(user.id), auth_header(access_token_for(client.app, user))


async def test_notifications_are_listed_newest_first_by_cursor_and_marked_read(start: Start) -> None:
    client = await start()
    user_id, headers = await _signed_in(client)
    _, stranger = await _signed_in(client)
    created = [await notify(client.app[SERVICES], user_id, NotificationKind.BROADCAST, {**BROADCAST, "title": f"Notice {n}"}) for n in range(3)]
    ids = [str(notification.id) for notification in reversed(created) if notification]

    first = await (await client.get("/v1/me/notifications?limit=2", headers=headers)).json()
    second = await (await client.get(f"/v1/me/notifications?limit=2&cursor={first['next_cursor']}", headers=headers)).json()
    assert [item["id"] for item in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None and first["unread"] == 3
    assert first["items"][0]["title"] == "Notice 2" and first["items"][0]["body"] == BROADCAST["message"]

    assert (await client.post(f"/v1/me/notifications/{ids[1]}/read", headers=stranger)).status == 404
    assert (await client.post(f"/v1/me/notifications/{ids[1]}/read", headers=headers)).status == 204
    assert (await client.post(f"/v1/me/notifications/{ids[1]}/read", headers=headers)).status == 204
    after_one = await (await client.get("/v1/me/notifications", headers=headers)).json()
    assert after_one["unread"] == 2 and after_one["items"][1]["read_at"] is not None
    all_read = await (await client.post("/v1/me/notifications/read-all", headers=headers)).json()
    assert all_read == {"updated": 2}
    assert (await (await client.get("/v1/me/notifications", headers=headers)).json())["unread"] == 0
    assert (await client.get("/v1/me/notifications?cursor=nonsense", headers=headers)).status == 400


async def test_a_new_notification_is_published_to_the_users_room(start: Start) -> None:
    client = await start()
    user_id, _ = await _signed_in(client)
    heard: list[Published] = []

    async def listen(published: Published) -> None:
        heard.append(published)

    client.app[SERVICES].bus.subscribe(listen)
    notification = await notify(client.app[SERVICES], user_id, NotificationKind.BROADCAST, BROADCAST, dedupe_key="broadcast:b1")
    again = await notify(client.app[SERVICES], user_id, NotificationKind.BROADCAST, BROADCAST, dedupe_key="broadcast:b1")

    assert notification is not None and again is not None and again.id == notification.id
    [event] = [published for published in heard if published.type == "notification.created"]
    assert event.target == f"user:{user_id}"
    assert event.data["id"] == str(notification.id) and event.data["kind"] == "broadcast"
    assert event.data["title"] == BROADCAST["title"] and event.data["read_at"] is None
