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
from tests.accounts.helpers import bearer, sign_in
from tests.factories import DEFAULT_PASSWORD, create_user
from tests.payments.conftest import pay
from tests.payments.test_mpesa import settle_push
from tests.privacy.conftest import Clock
from tests.privacy.traces import in_collections, in_files, in_redis
from tests.properties.builders import published_listing, signed_in
from tests.realtime.conftest import RecordingClient
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
    _, agent = await signed_in(client, "agent")
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
    return {"booking": booking["id"], "payment": payment["id"]}


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
    photo = await client.post("/v1/files?kind=photo", data=_jpeg(), headers={**guest, "Content-Type": "image/jpeg"})
    pdf = b"%PDF-1.7\n" + f"ID of {HOLDER}".encode() + b"0" * 300
    document = await client.post(
        "/v1/files?kind=document", data=pdf, headers={**guest, "Content-Type": "application/pdf"}
    )
    assert photo.status == 201, await photo.text()
    assert document.status == 201, await document.text()
    return [(await photo.json())["id"], (await document.json())["id"]]


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
    tickets = await _tickets(client, guest)
    file_ids = await _files(client, guest)
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
    assert len(files) == 2 and all(files.values())
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
    assert (await client.get("/v1/me/notifications", headers=guest)).status == 401
    # The phone's socket was closed when its session was revoked.
    await phone.wait_for(lambda socket: socket.disconnects == 1)
    await phone.sio.disconnect()
