"""Admin broadcasts reach all users or a role in batches, with progress readable and pushed to the admin."""

import asyncio

from aiohttp.test_utils import TestClient

from documents.notification import Notification, NotificationKind
from gateway.messaging.bus import Published
from gateway.state import SERVICES
from tests.factories import access_token_for, auth_header, create_user
from tests.notifications.conftest import JOB_WAIT_S, Start

MESSAGE = {"title": "New in Lango", "message": "Agents can now block dates from the calendar."}


async def _signed_in(client: TestClient, *roles: str) -> tuple[str, dict[str, str]]:
    user = await create_user(client.app, roles=roles or ("guest",))
    return str(user.id), auth_header(access_token_for(client.app, user))


async def test_a_broadcast_to_a_role_goes_out_in_batches_and_reports_its_progress(start: Start) -> None:
    client = await start(run_worker=True, notifications={"broadcast_batch_size": 2})
    admin_id, admin = await _signed_in(client, "admin")
    agents = [(await _signed_in(client, "agent"))[0] for _ in range(5)]
    guest_id, _ = await _signed_in(client)
    progress: list[dict] = []
    finished = asyncio.Event()

    async def watch(published: Published) -> None:
        if published.type == "broadcast.progress" and published.target == f"user:{admin_id}":
            progress.append(published.data)
            if published.data["status"] == "completed":
                finished.set()

    client.app[SERVICES].bus.subscribe(watch)
    response = await client.post("/v1/admin/broadcasts", json={"audience": {"kind": "role", "value": "agent"}, **MESSAGE}, headers=admin)
    assert response.status == 202, await response.text()
    started = await response.json()
    assert (started["status"], started["total"], started["sent"]) == ("sending", 5, 0)

    await asyncio.wait_for(finished.wait(), JOB_WAIT_S)

    assert [report["sent"] for report in progress] == [2, 4, 5]
    done = await (await client.get(f"/v1/admin/broadcasts/{started['id']}", headers=admin)).json()
    assert (done["status"], done["total"], done["sent"], done["failed"]) == ("completed", 5, 5, 0)
    reached = await Notification.find({"kind": NotificationKind.BROADCAST}).to_list()
    assert sorted(notification.user_id for notification in reached) == sorted(agents)
    assert guest_id not in {notification.user_id for notification in reached}
    assert reached[0].title == MESSAGE["title"] and reached[0].data == {"broadcast_id": started["id"]}


async def test_only_admins_broadcast_and_audiences_are_checked(start: Start) -> None:
    client = await start()
    _, admin = await _signed_in(client, "admin")
    _, agent = await _signed_in(client, "agent")
    everyone = {"audience": {"kind": "all"}, **MESSAGE}

    assert (await client.post("/v1/admin/broadcasts", json=everyone, headers=agent)).status == 403
    unknown_role = {"audience": {"kind": "role", "value": "pilot"}, **MESSAGE}
    assert (await client.post("/v1/admin/broadcasts", json=unknown_role, headers=admin)).status == 422
    not_an_event = {"audience": {"kind": "event", "value": "evt-1"}, **MESSAGE}
    refused = await client.post("/v1/admin/broadcasts", json=not_an_event, headers=admin)
    assert refused.status == 422
    assert (await refused.json(content_type=None))["errors"][0]["field"] == "body.audience.value"
    created = await (await client.post("/v1/admin/broadcasts", json=everyone, headers=admin)).json()
    assert created["total"] == 2
    assert (await client.get("/v1/admin/broadcasts/000000000000000000000000", headers=admin)).status == 404
