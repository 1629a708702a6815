"""Retention: each kind of personal data removed once it is older than privacy.retention says (docs/privacy.md).

A job rather than TTL indexes: the periods are settings that change without a migration, a kept record can lose just
its personal part (a vendor's raw payload), and the clock the job reads is the one tests move."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from beanie import Document

from documents.audit import AuditEvent
from documents.conversation import Conversation
from documents.conversation_message import ConversationMessage
from documents.notification import Notification
from documents.otp import OneTimeCode
from documents.paybill import PaybillPayment, PaybillStatus
from documents.payment_event import PaymentEvent
from documents.privacy_request import PrivacyRequest
from documents.review import ReportStatus, ReviewReport
from documents.scan_record import ScanRecord
from documents.session import Session
from gateway.files.lifecycle import delete_files
from gateway.jobs import every
from gateway.logs import get_logger
from gateway.services import Services
from gateway.settings import RetentionSettings

log = get_logger("lango.retention")


@dataclass(frozen=True)
class Rule:
    """Records of `document` matching `expired(cutoff)` are deleted, or, given `strip`, keep all but those fields."""

    name: str
    document: type[Document]
    days: Callable[[RetentionSettings], int]
    expired: Callable[[datetime], dict[str, Any]]
    strip: dict[str, Any] | None = None


RULES = (
    Rule("one_time_codes", OneTimeCode, lambda r: r.one_time_codes_d, lambda cutoff: {"created_at": {"$lt": cutoff}}),
    Rule(
        "sessions", Session, lambda r: r.sessions_d,
        lambda cutoff: {"$or": [{"revoked_at": {"$lt": cutoff}}, {"expires_at": {"$lt": cutoff}}]},
    ),
    Rule("audit_log", AuditEvent, lambda r: r.audit_log_d, lambda cutoff: {"at": {"$lt": cutoff}}),
    Rule("notifications", Notification, lambda r: r.notifications_d, lambda cutoff: {"created_at": {"$lt": cutoff}}),
    Rule("scan_records", ScanRecord, lambda r: r.scan_records_d, lambda cutoff: {"received_at": {"$lt": cutoff}}),
    # A statement not applied yet is still needed whole.
    Rule(
        "payment_event_payloads", PaymentEvent, lambda r: r.vendor_payloads_d,
        lambda cutoff: {"received_at": {"$lt": cutoff}, "applied_at": {"$ne": None}, "raw": {"$ne": {}}},
        strip={"raw": {}, "payer_phone": None},
    ),
    # A Paybill payment still being matched or returned keeps the phone it must go back to.
    Rule(
        "paybill_payloads", PaybillPayment, lambda r: r.vendor_payloads_d,
        lambda cutoff: {"created_at": {"$lt": cutoff}, "raw": {"$ne": {}},
                        "status": {"$in": [PaybillStatus.SETTLED.value, PaybillStatus.REFUNDED.value]}},
        strip={"raw": {}, "payer_name": "", "msisdn": ""},
    ),
    # An open report is still an admin's work.
    Rule(
        "review_reports", ReviewReport, lambda r: r.review_reports_d,
        lambda cutoff: {"created_at": {"$lt": cutoff}, "status": {"$ne": ReportStatus.OPEN.value}},
    ),
)  # fmt: skip


async def _apply(rule: Rule, now: datetime, retention: RetentionSettings) -> int:
    collection = rule.document.get_pymongo_collection()
    cutoff = now - timedelta(days=rule.days(retention))
    ids = [raw["_id"] async for raw in collection.find(rule.expired(cutoff), {"_id": 1}).limit(retention.batch)]
    if not ids:
        return 0
    if rule.strip is None:
        return (await collection.delete_many({"_id": {"$in": ids}})).deleted_count
    return (await collection.update_many({"_id": {"$in": ids}}, {"$set": rule.strip})).modified_count


async def _expire_archives(services: Services, now: datetime, limit: int) -> int:
    expired = await PrivacyRequest.expired_exports(now, limit)
    for request in expired:
        if request.archive_key:
            await services.storage.delete([request.archive_key])
        await request.mark_expired()
    return len(expired)


async def _expire_conversations(services: Services, now: datetime, retention: RetentionSettings) -> int:
    """A conversation quiet for `conversations_d`, and not reported within them, goes with its messages and the files
    attached to them."""
    cutoff = now - timedelta(days=retention.conversations_d)
    quiet = {"active_at": {"$lt": cutoff}, "$or": [{"reported_at": None}, {"reported_at": {"$lt": cutoff}}]}
    expired = await Conversation.find(quiet).limit(retention.batch).to_list()
    messages = ConversationMessage.get_pymongo_collection()
    for conversation in expired:
        of_it = {"conversation_id": conversation.id}
        # Files first: should storage fail, the messages still name them and the next run tries again.
        attached = [file_id async for raw in messages.find(of_it, {"attachment_ids": 1}) for file_id in raw["attachment_ids"]]
        await delete_files(services, attached)
        await messages.delete_many(of_it)
        await conversation.delete()
    return len(expired)


async def enforce_retention(services: Services) -> dict[str, int]:
    """One pass over every kind; answers how many records each lost (at most `batch` per kind and pass)."""
    now = services.clock()
    retention = services.settings.privacy.retention
    removed = {rule.name: await _apply(rule, now, retention) for rule in RULES}
    removed["data_exports"] = await _expire_archives(services, now, retention.batch)
    removed["conversations"] = await _expire_conversations(services, now, retention)
    if any(removed.values()):
        log.info("retention applied", **removed)
    return removed


@every("17 * * * *", timeout_s=600)
async def apply_retention(ctx: dict[str, Any]) -> dict[str, int]:
    return await enforce_retention(ctx["services"])
