"""The done-when of account deletion: a person who did everything the product allows is exported, then erased, and
nothing stored anywhere names them except financial records under a pseudonym."""

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from bson import ObjectId
from PIL import Image
from pymongo import AsyncMongoClient
from redis.asyncio import Redis
from yarl import URL

from documents.booking import Booking
from documents.ledger_balance import LedgerBalance
from documents.payment import Payment
from documents.privacy_request import PrivacyRequest, RequestStatus
from documents.review import Review
from documents.ticket import Ticket
from documents.ticket_order import TicketOrder
from gateway.analytics import ProductEvent, flush_events, track
from gateway.bookings.lifecycle import complete_finished_stays
from gateway.privacy.deletion import erase_due_accounts
from gateway.privacy.export import build_export
from gateway.settings import Settings
from gateway.state import SERVICES
from gateway.tickets.issuing import ticket_order_paid
from gateway.vendors.payments import SandboxVendors
from providers.emulators.posthog import PostHogEmulator
from tests.accounts.helpers import bearer, code_sent_to, sign_in
from tests.factories import DEFAULT_PASSWORD, create_user
from tests.payments.conftest import pay
from tests.payments.test_mpesa import settle_push
from tests.privacy.conftest import Clock
from tests.privacy.traces import in_collections, in_files, in_redis
from tests.properties.builders import published_listing, signed_in
from tests.realtime.conftest import RecordingClient
from tests.reconciliation.days import run_today
from tests.tickets.builders import door_staff, event_on_sale, hold, scan_body

EMAIL = "wanjiku.kamau@example.com"
PHONE = "+254712345678"
HOLDER = "Wanjiku Kamau"


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 40, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


async def _stay(client: TestClient, sandbox: SandboxVendors, guest: dict[str, str]) -> dict[str, Any]:
    """A booking paid by M-Pesa from the guest's phone, and the stay over."""
    agent_id, agent = await signed_in(client, "agent")
    place = await published_listing(client, agent)
    check_in = client.app[SERVICES].clock().date() + timedelta(days=10)
    created = await client.post("/v1/bookings", headers=guest, json={
        "property_id": place["id"], "check_in": str(check_in), "check_out": str(check_in + timedelta(days=2)), "guests": 2,
    })  # fmt: skip
    assert created.status == 201, await created.text()
    booking = {**await created.json(), "guest": guest}
    payment = await pay(client, booking, phone="0712345678")
    await settle_push(client, sandbox, payment)
    assert await complete_finished_stays(client.app[SERVICES], today=check_in + timedelta(days=3)) == 1
    return {"booking": booking["id"], "payment": payment["id"], "listing": place["id"], "host": agent,
            "host_id": agent_id}  # fmt: skip


async def _conversation(client: TestClient, guest: dict[str, str], stay: dict[str, Any], attachment: str) -> str:
    """The guest writes to the host about the booking, with a photo attached and her contacts; the host answers by her
    name."""
    opened = await client.post("/v1/conversations", json={"booking_id": stay["booking"]}, headers=guest)
    assert opened.status == 201, await opened.text()
    conversation = (await opened.json())["id"]
    for headers, text, attached in (
        (guest, f"Hello, {HOLDER} here: the gate photo. {EMAIL} or 0712345678", [attachment]),
        (stay["host"], f"Karibu {HOLDER}! Ask Wanjiku's driver to call us.", []),
    ):
        body = {"client_id": f"message-{len(text)}", "text": text, "attachment_ids": attached}
        sent = await client.post(f"/v1/conversations/{conversation}/messages", json=body, headers=headers)
        assert sent.status == 201, await sent.text()
    report = {"reason": "off_platform_payment", "details": f"The host asked {HOLDER} to pay cash, call 0712345678"}
    reported = await client.post(f"/v1/conversations/{conversation}/reports", json=report, headers=guest)
    assert reported.status in (200, 201, 202, 204), await reported.text()
    return conversation


async def _reviews(client: TestClient, guest: dict[str, str], stay: dict[str, Any]) -> dict[str, str]:
    """Guest and host review each other (both in: revealed, counted); the guest reports the host's review of her."""
    written = {}
    for side, headers, ratings, comment in (
        ("by_her", guest, {"cleanliness": 5, "accuracy": 4, "communication": 5, "location": 4, "check_in": 5,
                           "value": 4}, f"Lovely flat. {HOLDER}"),
        ("of_her", stay["host"], {"cleanliness": 2, "communication": 3, "house_rules": 2},
         f"{HOLDER} left a mess"),
    ):  # fmt: skip
        body = {"overall": 4 if side == "by_her" else 2, "ratings": ratings, "comment": comment}
        review = await client.post(f"/v1/bookings/{stay['booking']}/reviews", json=body, headers=headers)
        assert review.status == 201, await review.text()
        written[side] = (await review.json())["id"]
    replied = await client.post(
        f"/v1/reviews/{written['by_her']}/reply", json={"text": f"Asante {HOLDER}, karibu tena"}, headers=stay["host"]
    )
    assert replied.status in (200, 201), await replied.text()
    reported = await client.post(
        f"/v1/reviews/{written['of_her']}/reports", json={"reason": f"Untrue about {HOLDER}"}, headers=guest
    )
    assert reported.status in (201, 202, 204), await reported.text()
    return written


async def _profile_and_application(client: TestClient, guest: dict[str, str], photo: str, document: str) -> str:
    """A profile with her name and photo, and an application to host with her ID card, awaiting a decision."""
    profile = await client.patch(
        "/v1/me/profile",
        json={"display_name": HOLDER, "photo_id": photo, "bio": "Nairobi, loves the coast", "languages": ["sw", "en"]},
        headers=guest,
    )
    assert profile.status == 200, await profile.text()
    asked = await client.put("/v1/payouts/destination", json={"phone": "0712345678"}, headers=guest)
    assert asked.status == 202, await asked.text()
    code = await code_sent_to(client, PHONE)
    confirmed = await client.post("/v1/payouts/destination/confirm", json={"code": code}, headers=guest)
    assert confirmed.status == 200, await confirmed.text()
    applied = await client.post("/v1/me/host-applications", json={"identity_document_id": document}, headers=guest)
    assert applied.status == 201, await applied.text()
    return (await applied.json())["id"]


async def _tickets(client: TestClient, guest: dict[str, str]) -> dict[str, Any]:
    """Two tickets bought under the holder's name (Amani Njoroge), one of them scanned in at the door."""
    sale = await event_on_sale(client)
    held = await hold(client, sale, guest, 2)
    assert held.status == 201, await held.text()
    order = await held.json()
    tickets = await ticket_order_paid(client.app[SERVICES], order["id"], f"pay-{order['id']}")
    view = await (await client.get(f"/v1/tickets/{tickets[0].id}", headers=guest)).json()
    [(_, staff)] = await door_staff(client, sale)
    scanned = await client.post(f"/v1/events/{sale.event_id}/scans", headers=staff, json=scan_body(view["secret"]))
    assert scanned.status == 200, await scanned.text()
    return {"order": order["id"], "tickets": [str(ticket.id) for ticket in tickets], "event": sale.event_id}


async def _files(client: TestClient, guest: dict[str, str]) -> list[str]:
    """A photo (her profile's), an identity document (her application's) and a photo she attaches to a message."""
    photo = await client.post("/v1/files?kind=photo", data=_jpeg(), headers={**guest, "Content-Type": "image/jpeg"})
    attached = await client.post("/v1/files?kind=photo", data=_jpeg(), headers={**guest, "Content-Type": "image/jpeg"})
    assert attached.status == 201, await attached.text()
    pdf = b"%PDF-1.7\n" + f"ID of {HOLDER}".encode() + b"0" * 300
    document = await client.post(
        "/v1/files?kind=document", data=pdf, headers={**guest, "Content-Type": "application/pdf"}
    )
    assert photo.status == 201, await photo.text()
    assert document.status == 201, await document.text()
    return [(await photo.json())["id"], (await document.json())["id"], (await attached.json())["id"]]


async def _export(client: TestClient, guest: dict[str, str]) -> tuple[dict[str, Any], dict[str, bytes]]:
    asked = await client.post("/v1/me/exports", headers=guest, json={"password": DEFAULT_PASSWORD})
    assert asked.status == 202, await asked.text()
    export_id = (await asked.json())["id"]
    assert await build_export(client.app[SERVICES], export_id) is not None
    link = await client.get(f"/v1/me/exports/{export_id}/download", headers=guest)
    assert link.status == 200, await link.text()
    url = URL((await link.json())["url"])
    archive = await client.get(url.path_qs)
    assert archive.status == 200
    with zipfile.ZipFile(io.BytesIO(await archive.read())) as opened:
        data = json.loads(opened.read("data.json"))
        files = {name: opened.read(name) for name in opened.namelist() if name.startswith("files/")}
    return data, files


def _records(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return data[kind]["records"]


async def test_a_person_who_did_everything_is_exported_then_erased_down_to_pseudonymised_money(
    client: TestClient, sandbox: SandboxVendors, clock: Clock, posthog: PostHogEmulator, settings: Settings,
    mongo: AsyncMongoClient, redis: Redis, tmp_path: Path,
) -> None:  # fmt: skip
    app = client.app
    services = app[SERVICES]
    user = await create_user(app, email=EMAIL, phone=PHONE)
    user_id = str(user.id)
    guest = bearer(await sign_in(client, EMAIL))
    stay = await _stay(client, sandbox, guest)
    # The day's M-Pesa reconciliation sets the vendor's record of her payment against the ledger's.
    assert (await run_today(client, "mpesa")).counts
    tickets = await _tickets(client, guest)
    file_ids = await _files(client, guest)
    application = await _profile_and_application(client, guest, file_ids[0], file_ids[1])
    conversation = await _conversation(client, guest, stay, file_ids[2])
    reviews = await _reviews(client, guest, stay)
    registered = await client.post(
        "/v1/me/devices", headers=guest, json={"token": "fcm-wanjiku-phone-0001", "platform": "android"}
    )
    assert registered.status in (200, 201), await registered.text()
    consent = await client.put("/v1/me/marketing", headers=guest, json={"granted": True, "wording_version": "2026-12"})
    assert consent.status == 200, await consent.text()
    await track(services, ProductEvent.SEARCH, user_id, {"results": 3})
    await flush_events(services)
    assert any(event["distinct_id"] == user_id for event in posthog.events)

    data, files = await _export(client, guest)

    assert _records(data, "account")[0]["email"] == EMAIL
    assert _records(data, "account")[0]["phone"] == PHONE
    assert "password_hash" not in _records(data, "account")[0]
    assert [booking["_id"] for booking in _records(data, "bookings")] == [stay["booking"]]
    assert stay["payment"] in [payment["_id"] for payment in _records(data, "payments")]
    assert any(event.get("payer_phone") or event.get("raw") for event in _records(data, "vendor_statements"))
    assert [order["_id"] for order in _records(data, "ticket_orders")] == [tickets["order"]]
    assert sorted(ticket["_id"] for ticket in _records(data, "tickets")) == sorted(tickets["tickets"])
    [admitted] = [door for door in _records(data, "scans")["door_passes"] if door["entries"]]
    assert admitted["_id"] == tickets["tickets"][0] and admitted["inside"] is True
    assert sorted(file["id"] for file in _records(data, "files")) == sorted(file_ids)
    assert len(files) == 3 and all(files.values())
    assert _records(data, "profile")[0]["display_name"] == HOLDER
    assert _records(data, "profile")[0]["photo_id"] == file_ids[0]
    [applied] = _records(data, "host_applications")
    assert applied["_id"] == application and applied["identity_document_id"] == file_ids[1]
    [talk] = _records(data, "conversations")["conversations"]
    assert talk["_id"] == conversation and [report["by"] for report in talk["reports"]] == [user_id]
    [message] = _records(data, "conversations")["messages_sent"]
    assert message["attachment_ids"] == [file_ids[2]] and HOLDER in message["text"]
    assert sorted(review["_id"] for review in _records(data, "reviews")) == sorted(reviews.values())
    assert [report["review_id"] for report in _records(data, "review_reports")] == [reviews["of_her"]]
    assert [device["token"] for device in _records(data, "devices")] == ["fcm-wanjiku-phone-0001"]
    assert _records(data, "marketing_consent")[0]["granted"] is True
    assert _records(data, "notifications")
    assert _records(data, "sessions")
    assert _records(data, "audit_log")

    needles = [
        user_id,
        EMAIL,
        PHONE,
        PHONE.lstrip("+"),
        "0712345678",
        HOLDER,
        "Amani Njoroge",
        "fcm-wanjiku-phone-0001",
    ]
    # The search finds the person everywhere before: an empty result afterwards means something.
    assert await in_collections(mongo, settings, needles)
    assert await in_redis(redis, settings, needles)
    assert in_files(tmp_path / "files", needles)

    phone = RecordingClient()
    token = guest["Authorization"].removeprefix("Bearer ")
    await phone.sio.connect(str(client.make_url("/")), auth={"token": token}, transports=["websocket"], wait_timeout=10)

    asked = await client.post("/v1/me/deletion", headers=guest, json={"password": DEFAULT_PASSWORD})
    assert asked.status == 202, await asked.text()
    assert await erase_due_accounts(services) == 0
    clock.advance(timedelta(days=settings.privacy.deletion_grace_d, minutes=1))
    assert await erase_due_accounts(services) == 1

    request = await PrivacyRequest.by_id((await asked.json())["id"])
    assert request is not None and request.status == RequestStatus.ERASED
    pseudonym = request.pseudonym
    assert pseudonym is not None and request.user_id == pseudonym
    assert await in_collections(mongo, settings, needles) == []
    assert await in_redis(redis, settings, needles) == []
    assert in_files(tmp_path / "files", needles) == []
    assert posthog.deleted == [user_id]
    assert not any(event["distinct_id"] == user_id for event in posthog.events)
    # What the law keeps is there, under the pseudonym, and the books still balance.
    assert (await Payment.get(stay["payment"])).user_id == pseudonym  # type: ignore[union-attr]
    assert (await Booking.get(stay["booking"])).guest_id == pseudonym  # type: ignore[union-attr]
    assert (await TicketOrder.get(tickets["order"])).buyer_id == pseudonym  # type: ignore[union-attr]
    assert {ticket.holder_id for ticket in await Ticket.find({"order_id": ObjectId(tickets["order"])}).to_list()} == {
        pseudonym
    }
    assert sum(balance.balance_minor for balance in await LedgerBalance.find_all().to_list()) == 0
    # Her review still counts in the listing's rating, without her words; the host's review of her is gone.
    host = stay["host"]
    listing = await (await client.get(f"/v1/properties/{stay['listing']}", headers=host)).json()
    assert listing["rating_count"] == 1 and listing["rating_average"] == 4
    kept = await Review.get(reviews["by_her"])
    assert kept is not None and kept.author_id == pseudonym and kept.counted and kept.reply is not None
    assert kept.reply.text.startswith("Asante") and await Review.get(reviews["of_her"]) is None
    # The host's message stays, without her name; hers is an empty shell in the thread.
    history = await client.get(f"/v1/conversations/{conversation}/messages", headers=host)
    assert history.status == 200, await history.text()
    texts = [item["text"] for item in (await history.json())["items"]]
    assert sorted(texts) == ["Karibu [erased]! Ask [erased]'s driver to call us.", "[erased]"]
    assert (await client.get("/v1/me/notifications", headers=guest)).status == 401
    # The phone's socket was closed when its session was revoked.
    await phone.wait_for(lambda socket: socket.disconnects == 1)
    await phone.sio.disconnect()
