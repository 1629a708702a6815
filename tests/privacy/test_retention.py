"""Retention: each kind of personal data goes once older than its period; the test moves the clock, never sleeps."""

from datetime import timedelta

from aiohttp.test_utils import TestClient
from beanie import PydanticObjectId

from documents.audit import AuditEvent, AuditKind
from documents.conversation import Conversation, ConversationKind
from documents.conversation_message import ConversationMessage
from documents.notification import Notification, NotificationKind
from documents.otp import CodePurpose, OneTimeCode
from documents.payment_event import PaymentEvent
from documents.privacy_request import PrivacyRequest, RequestStatus
from documents.review import ReportStatus, ReviewReport
from documents.scan_record import ScanDirection, ScanRecord, ScanResult
from documents.session import Session
from documents.stored_file import FileStatus, StoredFile
from gateway.privacy.export import build_export
from gateway.privacy.retention import enforce_retention
from gateway.settings import Settings
from gateway.state import SERVICES
from tests.accounts.helpers import bearer, sign_in
from tests.factories import create_user
from tests.privacy.conftest import Clock
from tests.properties.builders import ready_photo


async def _records_made_at(clock: Clock, user_id: PydanticObjectId, tag: str) -> None:
    """One record of every kind, as of the clock's now."""
    now = clock.now
    await OneTimeCode(user_id=user_id, purpose=CodePurpose.VERIFY_EMAIL if tag == "old" else CodePurpose.VERIFY_PHONE,
                      destination=f"{tag}@example.com", code_hash="h", salt="s", created_at=now,
                      expires_at=now + timedelta(days=3650)).insert()  # fmt: skip
    await Session(user_id=user_id, device=tag, refresh_hash=f"refresh-{tag}", created_at=now, last_seen_at=now,
                  expires_at=now + timedelta(days=3650), revoked_at=now, revoked_because="signed_out").insert()  # fmt: skip
    await AuditEvent(kind=AuditKind.LOGIN_SUCCEEDED, user_id=user_id, client_address="10.0.0.1", at=now).insert()
    await Notification(user_id=str(user_id), kind=NotificationKind.WELCOME, title=tag, body=tag, locale="en",
                       created_at=now).insert()  # fmt: skip
    await ScanRecord(event_id=PydanticObjectId(), scanner_id=str(user_id), nonce=tag, direction=ScanDirection.ENTRY,
                     gate="North", result=ScanResult.INVALID, answer={"result": "invalid"}, scanned_at=now,
                     received_at=now).insert()  # fmt: skip
    await PaymentEvent(provider="mpesa", dedupe_key=tag, source="webhook", reference=tag, outcome="succeeded", reason="",
                       payer_phone="254712345678", raw={"PhoneNumber": 254712345678}, received_at=now,
                       applied_at=now).insert()  # fmt: skip


async def test_each_kind_goes_once_older_than_its_period_and_newer_records_stay(
    client: TestClient, clock: Clock, settings: Settings
) -> None:
    services = client.app[SERVICES]
    user = await create_user(client.app)
    assert user.id is not None
    retention = settings.privacy.retention
    await _records_made_at(clock, user.id, "old")
    clock.advance(timedelta(days=retention.one_time_codes_d, hours=1))
    await _records_made_at(clock, user.id, "new")

    assert (await enforce_retention(services))["one_time_codes"] == 1
    clock.advance(timedelta(days=max(retention.sessions_d, retention.scan_records_d, retention.vendor_payloads_d) + 1))
    removed = await enforce_retention(services)
    clock.advance(timedelta(days=retention.audit_log_d))
    removed_later = await enforce_retention(services)

    assert [code.destination for code in await OneTimeCode.find_all().to_list()] == []
    assert removed["sessions"] == 2 and removed["scan_records"] == 2 and removed["payment_event_payloads"] == 2
    assert removed["audit_log"] == 0 and removed["notifications"] == 0
    assert removed_later["audit_log"] >= 2 and removed_later["notifications"] == 2
    # The vendors' statements stay (the money's record) without the payload and the payer's phone.
    statements = await PaymentEvent.find_all().to_list()
    assert len(statements) == 2 and all(s.raw == {} and s.payer_phone is None for s in statements)
    assert await Session.find_all().count() == 0 and await ScanRecord.find_all().count() == 0


async def test_an_export_archive_is_removed_when_it_expires(
    client: TestClient, clock: Clock, settings: Settings
) -> None:
    await create_user(client.app, email="mutua@example.com")
    person = bearer(await sign_in(client, "mutua@example.com"))
    asked = await client.post("/v1/me/exports", headers=person)
    assert asked.status == 202, await asked.text()
    export_id = (await asked.json())["id"]
    services = client.app[SERVICES]
    ready = await build_export(services, export_id)
    assert ready is not None and ready.archive_key is not None
    assert await services.storage.head(ready.archive_key) is not None

    clock.advance(timedelta(hours=settings.privacy.export_kept_h) - timedelta(minutes=1))
    assert (await enforce_retention(services))["data_exports"] == 0
    clock.advance(timedelta(minutes=2))
    assert (await enforce_retention(services))["data_exports"] == 1

    assert await services.storage.head(ready.archive_key) is None
    expired = await PrivacyRequest.by_id(export_id)
    assert expired is not None and expired.status == RequestStatus.EXPIRED
    link = await client.get(f"/v1/me/exports/{export_id}/download", headers=person)
    assert link.status == 409


async def test_a_quiet_conversation_goes_with_its_messages_and_attachments_unless_reported_lately(
    client: TestClient, clock: Clock, settings: Settings
) -> None:
    services = client.app[SERVICES]
    retention = settings.privacy.retention
    guest_id, host_id = str(PydanticObjectId()), str(PydanticObjectId())
    photo = await ready_photo(guest_id)
    quiet, reported = (
        Conversation(kind=ConversationKind.ENQUIRY, property_id=PydanticObjectId(), guest_id=guest_id, host_id=host_id,
                     created_at=clock.now, active_at=clock.now)
        for _ in range(2)
    )  # fmt: skip
    await quiet.insert()
    await reported.insert()
    for conversation, attached in ((quiet, [photo]), (reported, [])):
        await ConversationMessage(conversation_id=conversation.id, sender_id=guest_id, sender_role="guest",  # type: ignore[arg-type]
                                  text="Is it near the beach?", masked_text="Is it near the beach?",
                                  attachment_ids=attached, client_id="message-0001", created_at=clock.now).insert()  # fmt: skip
    for status in (ReportStatus.HIDDEN, ReportStatus.OPEN):
        await ReviewReport(review_id=str(PydanticObjectId()), reporter_id=guest_id, reason="Insults", status=status,
                           created_at=clock.now).insert()  # fmt: skip

    clock.advance(timedelta(days=retention.conversations_d - 1))
    await Conversation.get_pymongo_collection().update_one({"_id": reported.id}, {"$set": {"reported_at": clock.now}})
    first = await enforce_retention(services)
    clock.advance(timedelta(days=2))
    second = await enforce_retention(services)

    assert first["conversations"] == 0 and first["review_reports"] == 1
    assert second["conversations"] == 1 and second["review_reports"] == 0
    assert await Conversation.get(quiet.id) is None and await Conversation.get(reported.id) is not None
    assert [message.conversation_id for message in await ConversationMessage.find_all().to_list()] == [reported.id]
    attachment = await StoredFile.get(PydanticObjectId(photo))
    assert attachment is not None and attachment.status is FileStatus.DELETED
    assert [report.status for report in await ReviewReport.find_all().to_list()] == [ReportStatus.OPEN]
