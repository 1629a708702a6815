"""An admin with either party: support threads an admin opens with a guest or a host (audited, the member notified,
delivered live), admins joining a reported conversation announced in it, and an enquiry linked to the booking's
conversation."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiohttp.test_utils import TestClient

from gateway.privacy.conversation_data import CONVERSATIONS
from gateway.privacy.records import ERASED
from gateway.privacy.registry import DataSubject
from gateway.state import SERVICES
from tests.conversations.conftest import Stay
from tests.properties.builders import problem_type, published_listing, signed_in


def _support(user_id: str, text: str, role: str = "guest") -> dict[str, Any]:
    return {"user_id": user_id, "role": role, "message": {"client_id": uuid.uuid4().hex, "text": text}}


async def _messages(client: TestClient, conversation_id: str, headers: dict[str, str]) -> Any:
    return await client.get(f"/v1/conversations/{conversation_id}/messages", headers=headers)


async def _pending_push(client: TestClient, user_id: str, conversation_id: str) -> dict[str, Any]:
    services = client.app[SERVICES]
    held = await services.redis.get(services.bus.keys.pending_push(user_id, f"conversation:{conversation_id}"))
    assert held is not None
    return orjson.loads(held)["notice"]


async def test_an_admin_writes_to_a_guest_who_is_notified_and_replies_and_the_opening_is_audited(
    client: TestClient,
) -> None:
    admin_id, admin = await signed_in(client, "admin")
    guest_id, guest = await signed_in(client)
    sent = await client.post("/v1/admin/conversations/support", json=_support(guest_id, "Call us on 0712 345 678"),
                             headers=admin)  # fmt: skip
    assert sent.status == 201, await sent.text()
    message = await sent.json()
    # Support shows contact points: nobody pays anyone off the platform here.
    assert message["sender_role"] == "admin" and message["text"] == "Call us on 0712 345 678"
    conversation_id = message["conversation_id"]

    listed = (await (await client.get("/v1/conversations", headers=guest)).json())["items"]
    assert [(item["id"], item["kind"], item["guest_id"], item["host_id"], item["property_id"]) for item in listed] == [
        (conversation_id, "support", guest_id, None, None)
    ]
    assert listed[0]["admin_ids"] == [admin_id] and listed[0]["unread"] == 1
    inbox = (await (await client.get("/v1/me/notifications", headers=guest)).json())["items"]
    assert [(item["kind"], item["data"]) for item in inbox] == [
        ("support_conversation", {"conversation_id": conversation_id})
    ]
    assert await _pending_push(client, guest_id, conversation_id) == {
        "title": "Message from Lango support",
        "body": "Call us on 0712 345 678",
    }

    reply = await client.post(f"/v1/conversations/{conversation_id}/messages",
                              json={"client_id": uuid.uuid4().hex, "text": "Thanks"}, headers=guest)  # fmt: skip
    assert reply.status == 201 and (await reply.json())["sender_role"] == "guest"
    again = await client.post("/v1/admin/conversations/support", json=_support(guest_id, "Anything else?"),
                              headers=admin)  # fmt: skip
    assert (await again.json())["conversation_id"] == conversation_id
    seen = (await (await _messages(client, conversation_id, admin)).json())["items"]
    assert [item["text"] for item in seen] == ["Anything else?", "Thanks", "Call us on 0712 345 678"]
    # Notified once per thread; every opening is in the audit log.
    assert len((await (await client.get("/v1/me/notifications", headers=guest)).json())["items"]) == 1
    audit = await (await client.get("/v1/admin/audit", params={"kind": "support_conversation_opened"},
                                    headers=admin)).json()  # fmt: skip
    assert [(event["actor_id"], event["user_id"]) for event in audit["items"]] == [(admin_id, guest_id)] * 2


async def test_a_second_admin_joins_the_hosts_support_thread_and_both_sides_are_told(client: TestClient) -> None:
    first_id, first = await signed_in(client, "admin")
    second_id, second = await signed_in(client, "admin")
    host_id, host = await signed_in(client, "agent")
    opened = await client.post("/v1/admin/conversations/support", json=_support(host_id, "About your listing", "host"),
                               headers=first)  # fmt: skip
    conversation_id = (await opened.json())["conversation_id"]
    # Not a participant yet: the thread does not exist for the second admin.
    assert (await _messages(client, conversation_id, second)).status == 404

    joined = await client.post("/v1/admin/conversations/support", json=_support(host_id, "I can help too", "host"),
                               headers=second)  # fmt: skip
    assert joined.status == 201 and (await joined.json())["conversation_id"] == conversation_id
    seen = (await (await _messages(client, conversation_id, host)).json())["items"]
    assert [(item["sender_id"], item["notice"], item["text"]) for item in seen] == [
        (second_id, None, "I can help too"),
        (second_id, "admin_joined", ""),
        (first_id, None, "About your listing"),
    ]
    conversation = await (await client.get(f"/v1/conversations/{conversation_id}", headers=host)).json()
    assert conversation["host_id"] == host_id and conversation["guest_id"] is None
    assert conversation["admin_ids"] == [first_id, second_id]


async def test_support_is_for_admins_to_existing_members_on_a_side_they_have(client: TestClient) -> None:
    admin_id, admin = await signed_in(client, "admin")
    guest_id, guest = await signed_in(client)
    url = "/v1/admin/conversations/support"
    assert (await client.post(url, json=_support(guest_id, "hi"), headers=guest)).status == 403
    not_host = await client.post(url, json=_support(guest_id, "hi", "host"), headers=admin)
    assert not_host.status == 409 and await problem_type(not_host) == "conversation-not-open"
    assert (await client.post(url, json=_support(admin_id, "hi"), headers=admin)).status == 409
    assert (await client.post(url, json=_support("0" * 24, "hi"), headers=admin)).status == 404
    unknown_field = {**_support(guest_id, "hi"), "booking_id": "0" * 24}
    assert (await client.post(url, json=unknown_field, headers=admin)).status == 422
    assert (await client.post(url, json=_support("me", "hi"), headers=admin)).status == 422


async def test_racing_admins_opening_support_with_one_member_make_one_thread(client: TestClient) -> None:
    admins = [await signed_in(client, "admin") for _ in range(3)]
    guest_id, _ = await signed_in(client)
    answers = await asyncio.gather(
        *(client.post("/v1/admin/conversations/support", json=_support(guest_id, "hello"), headers=headers)
          for _, headers in admins)  # fmt: skip
    )
    assert [answer.status for answer in answers] == [201] * 3
    assert len({(await answer.json())["conversation_id"] for answer in answers}) == 1


async def test_an_admin_joining_a_reported_conversation_is_announced_to_both_sides_once(
    stay: Stay, client: TestClient
) -> None:
    conversation_id = stay.conversation["id"]
    admin_id, admin = await signed_in(client, "admin")
    await client.post(f"/v1/conversations/{conversation_id}/reports", json={"reason": "needs_help"}, headers=stay.guest)
    for _ in range(2):
        joined = await client.post(f"/v1/admin/conversations/{conversation_id}/join", headers=admin)
        assert joined.status == 200, await joined.text()
    for side in (stay.guest, stay.host):
        seen = (await (await stay.history(side)).json())["items"]
        assert [(item["sender_id"], item["sender_role"], item["notice"]) for item in seen] == [
            (admin_id, "admin", "admin_joined")
        ]
    assert await _pending_push(client, stay.host_id, conversation_id) == {
        "title": "Message from Lango support",
        "body": "Lango support joined this conversation",
    }


async def test_the_booking_conversation_links_the_guests_earlier_enquiry_for_the_host(client: TestClient) -> None:
    host_id, host = await signed_in(client, "agent")
    listing = await published_listing(client, host)
    guest_id, guest = await signed_in(client)
    enquiry = await (await client.post("/v1/conversations", json={"property_id": listing["id"]}, headers=guest)).json()
    asked = await client.post(f"/v1/conversations/{enquiry['id']}/messages",
                              json={"client_id": uuid.uuid4().hex, "text": "Is there parking?"}, headers=guest)  # fmt: skip
    assert asked.status == 201
    check_in = datetime.now(UTC).date() + timedelta(days=10)
    stay = {"property_id": listing["id"], "check_in": str(check_in), "check_out": str(check_in + timedelta(days=2)),
            "guests": 1}  # fmt: skip
    booking = await (await client.post("/v1/bookings", json=stay, headers=guest)).json()

    opened = await client.post("/v1/conversations", json={"booking_id": booking["id"]}, headers=host)
    assert (await opened.json())["enquiry_id"] == enquiry["id"]
    earlier = (await (await _messages(client, enquiry["id"], host)).json())["items"]
    assert [item["text"] for item in earlier] == ["Is there parking?"]


async def test_erasing_a_member_leaves_their_support_thread_naming_only_the_pseudonym(client: TestClient) -> None:
    _, admin = await signed_in(client, "admin")
    guest_id, guest = await signed_in(client)
    sent = await client.post("/v1/admin/conversations/support", json=_support(guest_id, "How can we help?"),
                             headers=admin)  # fmt: skip
    conversation_id = (await sent.json())["conversation_id"]
    await client.post(f"/v1/conversations/{conversation_id}/messages",
                      json={"client_id": uuid.uuid4().hex, "text": "My flat is flooded"}, headers=guest)  # fmt: skip

    subject = DataSubject(user_id=guest_id, email=None, phone=None, pseudonym=f"erased-{uuid.uuid4().hex[:8]}")
    for _ in range(2):  # an interrupted erasure runs again from the start
        await CONVERSATIONS.erase(client.app[SERVICES], subject)
    conversation = await (await client.get(f"/v1/conversations/{conversation_id}", headers=admin)).json()
    assert (conversation["guest_id"], conversation["host_id"]) == (subject.pseudonym, None)
    seen = (await (await _messages(client, conversation_id, admin)).json())["items"]
    assert [(item["sender_id"], item["text"]) for item in seen] == [
        (subject.pseudonym, ERASED),
        ((await sent.json())["sender_id"], "How can we help?"),
    ]
