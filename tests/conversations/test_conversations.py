"""Guest and host talk about a stay: one conversation per booking, contact points hidden until it is confirmed,
nobody else reads it, receipts, attachments of one's own files, retries stored once, a rate limit."""

import asyncio
import uuid

import orjson
import pytest
from aiohttp.test_utils import TestClient

from documents.conversation import Conversation
from documents.conversation_message import ConversationMessage
from documents.stored_file import FileKind
from gateway.bookings.lifecycle import confirm_booking
from gateway.conversations.contacts import MASK
from gateway.conversations.problems import ConversationNotFound
from gateway.conversations.signals import signal_typing
from gateway.messaging.bus import Published
from gateway.problems import TooManyRequests
from gateway.security.callers import Caller
from gateway.state import SERVICES
from tests.conversations.conftest import MESSAGES_PER_MINUTE, TYPING_SIGNALS_PER_MINUTE, Stay
from tests.properties.builders import problem_type, published_listing, ready_photo, signed_in

PHONE_AND_EMAIL = "Call me on 0 7 1 2 - 3 4 5 - 6 7 8 or write to amina dot k at gmail dot com"


async def test_both_sides_opening_a_booking_conversation_get_the_same_one(stay: Stay) -> None:
    client = stay.client
    again = await client.post("/v1/conversations", json={"booking_id": stay.booking["id"]}, headers=stay.host)
    assert again.status == 201
    view = await again.json()
    assert view["id"] == stay.conversation["id"]
    assert (view["kind"], view["guest_id"], view["host_id"]) == ("booking", stay.guest_id, stay.host_id)
    assert view["contacts_visible"] is False


async def test_contacts_are_hidden_until_the_booking_is_confirmed_then_shown_in_every_message(stay: Stay) -> None:
    sent = await stay.send(stay.guest, PHONE_AND_EMAIL)
    assert sent.status == 201, await sent.text()
    message = await sent.json()
    assert message["contacts_hidden"] is True
    assert "0 7 1 2" not in message["text"] and "gmail" not in message["text"]
    assert message["text"] == f"Call me on {MASK} or write to {MASK}"
    hosts_view = (await (await stay.history(stay.host)).json())["items"]
    assert [item["text"] for item in hosts_view] == [message["text"]]

    await confirm_booking(stay.client.app[SERVICES], stay.booking["id"], "pay-1")

    shown = (await (await stay.history(stay.host)).json())["items"]
    assert [(item["text"], item["contacts_hidden"]) for item in shown] == [(PHONE_AND_EMAIL, False)]
    conversation = await (
        await stay.client.get(f"/v1/conversations/{stay.conversation['id']}", headers=stay.guest)
    ).json()
    assert conversation["contacts_visible"] is True


async def test_an_enquiry_before_booking_always_hides_contacts(stay: Stay) -> None:
    client = stay.client
    _, stranger = await signed_in(client)
    opened = await client.post("/v1/conversations", json={"property_id": stay.listing["id"]}, headers=stranger)
    assert opened.status == 201, await opened.text()
    enquiry = await opened.json()
    assert enquiry["kind"] == "enquiry" and enquiry["booking_id"] is None and enquiry["host_id"] == stay.host_id
    sent = await client.post(
        f"/v1/conversations/{enquiry['id']}/messages",
        json={"client_id": uuid.uuid4().hex, "text": "WhatsApp me: +254 seven one two, 345 678"},
        headers=stranger,
    )
    assert (await sent.json())["text"] == f"WhatsApp me: {MASK}"
    own = await client.post("/v1/conversations", json={"property_id": stay.listing["id"]}, headers=stay.host)
    assert await problem_type(own) == "conversation-not-open"


async def test_nobody_but_the_participants_reads_or_writes_not_even_an_admin(stay: Stay) -> None:
    client = stay.client
    await stay.send(stay.guest, "Is there parking?")
    _, stranger = await signed_in(client)
    _, admin = await signed_in(client, "admin")
    path = f"/v1/conversations/{stay.conversation['id']}"
    for headers in (stranger, admin):
        assert (await client.get(path, headers=headers)).status == 404
        assert (await stay.history(headers)).status == 404
        assert (await stay.send(headers, "hello")).status == 404
        listed = await (await client.get("/v1/conversations", headers=headers)).json()
        assert listed["items"] == []
    opened = await client.post("/v1/conversations", json={"booking_id": stay.booking["id"]}, headers=stranger)
    assert opened.status == 404
    not_reported = await client.get(
        f"/v1/admin/conversations{path.removeprefix('/v1/conversations')}/messages", headers=admin
    )
    assert await problem_type(not_reported) == "conversation-not-reported"


async def test_a_retried_send_is_stored_once_and_history_pages_newest_first(stay: Stay) -> None:
    client_id = uuid.uuid4().hex
    first = await stay.send(stay.guest, "first", client_id=client_id)
    retried = await stay.send(stay.guest, "first", client_id=client_id)
    assert (await first.json())["id"] == (await retried.json())["id"]
    for text in ("second", "third", "fourth"):
        assert (await stay.send(stay.host, text)).status == 201
    page = await (await stay.history(stay.guest, limit=3)).json()
    assert [item["text"] for item in page["items"]] == ["fourth", "third", "second"]
    rest = await (await stay.history(stay.guest, limit=3, cursor=page["next_cursor"])).json()
    assert [item["text"] for item in rest["items"]] == ["first"] and rest["next_cursor"] is None


async def test_read_receipts_move_forward_only_and_unread_counts_follow(stay: Stay) -> None:
    client = stay.client
    ids = [(await (await stay.send(stay.host, text)).json())["id"] for text in ("one", "two", "three")]
    path = f"/v1/conversations/{stay.conversation['id']}"
    assert (await (await client.get(path, headers=stay.guest)).json())["unread"] == 3
    receipt = await client.post(f"{path}/read", json={"message_id": ids[1]}, headers=stay.guest)
    assert (await receipt.json())["last_read_message_id"] == ids[1]
    older = await client.post(f"{path}/read", json={"message_id": ids[0]}, headers=stay.guest)
    assert (await older.json())["last_read_message_id"] == ids[1]
    seen_by_host = await (await client.get(path, headers=stay.host)).json()
    assert seen_by_host["read_up_to"] == {stay.guest_id: ids[1]}
    assert (await (await client.get(path, headers=stay.guest)).json())["unread"] == 1
    foreign = await client.post(f"{path}/read", json={"message_id": "0" * 24}, headers=stay.guest)
    assert await problem_type(foreign) == "message-not-found"


async def test_only_the_senders_own_confirmed_files_can_be_attached(stay: Stay) -> None:
    own = await ready_photo(stay.guest_id)
    hosts = await ready_photo(stay.host_id)
    refused = await stay.send(stay.guest, "look", attachment_ids=[hosts])
    assert refused.status == 422 and await problem_type(refused) == "attachment-refused"
    sent = await stay.send(stay.guest, "", attachment_ids=[own])
    assert sent.status == 201, await sent.text()
    attachment = (await (await stay.history(stay.host)).json())["items"][0]["attachments"][0]
    assert attachment["id"] == own and attachment["kind"] == FileKind.PHOTO
    # The host gets the photo's thumbnails, not the original with its EXIF position.
    assert attachment["url"] is None


async def test_sending_is_rate_limited_per_user(stay: Stay) -> None:
    for number in range(MESSAGES_PER_MINUTE):
        assert (await stay.send(stay.guest, f"message {number}")).status == 201
    refused = await stay.send(stay.guest, "one too many")
    assert refused.status == 429 and await problem_type(refused) == "messages-rate-limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert (await stay.send(stay.host, "the host still may")).status == 201


async def test_a_report_lets_an_admin_read_the_conversation_audited_and_join_it(stay: Stay, client: TestClient) -> None:
    await stay.send(stay.guest, PHONE_AND_EMAIL)
    admin_id, admin = await signed_in(client, "admin")
    conversation_id = stay.conversation["id"]
    reported = await client.post(
        f"/v1/conversations/{conversation_id}/reports",
        json={"reason": "off_platform_payment", "details": "asks for cash"},
        headers=stay.host,
    )
    assert reported.status == 202, await reported.text()

    queue = await (await client.get("/v1/admin/conversations/reported", headers=admin)).json()
    assert [item["id"] for item in queue["items"]] == [conversation_id]
    assert queue["items"][0]["reports"][0]["reason"] == "off_platform_payment"
    read = await client.get(f"/v1/admin/conversations/{conversation_id}/messages", headers=admin)
    assert read.status == 200, await read.text()
    assert [item["text"] for item in (await read.json())["items"]] == [PHONE_AND_EMAIL]
    audit = await (await client.get("/v1/admin/audit", params={"kind": "conversation_read"}, headers=admin)).json()
    assert [event["actor_id"] for event in audit["items"]] == [admin_id]
    assert (await client.get(f"/v1/admin/conversations/{conversation_id}/messages", headers=stay.guest)).status == 403

    joined = await client.post(f"/v1/admin/conversations/{conversation_id}/join", headers=admin)
    assert (await joined.json())["admin_ids"] == [admin_id]
    said = await stay.send(admin, "Payments go through Lango only, please.")
    assert (await said.json())["sender_role"] == "admin"
    seen = (await (await stay.history(stay.guest)).json())["items"]
    # The admin's joining is announced in the thread before anything they write.
    assert [(item["sender_role"], item["notice"]) for item in seen] == [
        ("admin", None),
        ("admin", "admin_joined"),
        ("guest", None),
    ]


async def test_typing_indicators_are_rate_limited_and_only_participants_send_them(stay: Stay) -> None:
    services = stay.client.app[SERVICES]
    guest = Caller(stay.guest_id, frozenset({"guest"}), "session")
    conversation_id = stay.conversation["id"]
    for _ in range(TYPING_SIGNALS_PER_MINUTE):
        # Nobody is connected: the signal reaches no node, and nothing is kept.
        assert await signal_typing(services, guest, conversation_id, True) == 0
    with pytest.raises(TooManyRequests):
        await signal_typing(services, guest, conversation_id, False)
    with pytest.raises(ConversationNotFound):
        await signal_typing(services, Caller("stranger", frozenset({"guest"}), "session"), conversation_id, True)


async def test_racing_opens_and_racing_retries_of_one_send_store_one_of_each(stay: Stay) -> None:
    client = stay.client
    opened = await asyncio.gather(
        *(
            client.post("/v1/conversations", json={"property_id": stay.listing["id"]}, headers=stay.guest)
            for _ in range(8)
        )
    )
    assert len({(await answer.json())["id"] for answer in opened}) == 1
    assert await Conversation.find({"kind": "enquiry"}).count() == 1

    published: list[Published] = []

    async def record(event: Published) -> None:
        published.append(event)

    client.app[SERVICES].bus.subscribe(record)
    client_id = uuid.uuid4().hex
    sent = await asyncio.gather(
        *(stay.send(stay.guest, "only once", client_id=client_id) for _ in range(MESSAGES_PER_MINUTE - 1))
    )
    assert {answer.status for answer in sent} == {201}
    assert len({(await answer.json())["id"] for answer in sent}) == 1
    assert await ConversationMessage.find({"client_id": client_id}).count() == 1
    # Delivered once, to each of the two participants' rooms.
    assert sorted(event.target for event in published) == sorted([f"user:{stay.guest_id}", f"user:{stay.host_id}"])


async def test_the_conversation_list_puts_the_latest_written_in_first_and_pages_without_repeats(stay: Stay) -> None:
    client = stay.client
    listings = [stay.listing] + [await published_listing(client, stay.host) for _ in range(2)]
    enquiries = []
    for listing in listings:
        opened = await client.post("/v1/conversations", json={"property_id": listing["id"]}, headers=stay.guest)
        enquiries.append((await opened.json())["id"])
    # Opened last, the third enquiry leads; then the first is written in and takes the lead.
    await client.post(
        f"/v1/conversations/{enquiries[0]}/messages",
        json={"client_id": uuid.uuid4().hex, "text": "hi"},
        headers=stay.guest,
    )
    expected = [enquiries[0], enquiries[2], enquiries[1], stay.conversation["id"]]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await (await client.get("/v1/conversations", params=params, headers=stay.guest)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    bad = await client.get("/v1/conversations", params={"cursor": "yesterday"}, headers=stay.guest)
    assert bad.status == 400


async def test_an_offline_readers_push_is_in_their_language_and_hides_what_they_would_not_see(stay: Stay) -> None:
    client = stay.client
    services = client.app[SERVICES]
    swahili = await client.put(
        "/v1/me/notification-preferences",
        json={"locale": "sw", "time_zone": "Africa/Nairobi", "kinds": {}},
        headers=stay.host,
    )
    assert swahili.status == 200, await swahili.text()
    await stay.send(stay.guest, "Nipigie 0712 345 678")
    pending = services.bus.keys.pending_push(stay.host_id, f"conversation:{stay.conversation['id']}")
    held = orjson.loads(await services.redis.get(pending))
    assert held["notice"] == {"title": "Ujumbe mpya kutoka kwa mgeni wako", "body": f"Nipigie {MASK}"}
    # The sender's own room gets the message, never a push.
    assert (
        await services.redis.get(
            services.bus.keys.pending_push(stay.guest_id, f"conversation:{stay.conversation['id']}")
        )
        is None
    )
