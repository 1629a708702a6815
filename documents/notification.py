"""A notification to one user: its in-app inbox entry and, per channel, the record of its delivery."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from documents.clock import stored_now


class NotificationKind(StrEnum):
    OTP = "otp"
    SIGNUP_ATTEMPT = "signup_attempt"
    WELCOME = "welcome"
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_REMINDER = "booking_reminder"
    BOOKING_CANCELLED = "booking_cancelled"
    PAYMENT_RECEIPT = "payment_receipt"
    TICKET_ISSUED = "ticket_issued"
    EVENT_REMINDER = "event_reminder"
    EVENT_CANCELLED = "event_cancelled"
    BROADCAST = "broadcast"
    # A change to how the account signs in (two-factor turned on or off): the owner hears of it at once.
    SECURITY_ALERT = "security_alert"
    # A host's or agent's earnings reached their M-Pesa phone.
    PAYOUT_SENT = "payout_sent"
    # An admin approved or refused the user's application to host (with the reason).
    HOST_APPLICATION_DECIDED = "host_application_decided"
    # Both reviews of a stay are public: the other side's review can be read.
    REVIEW_REVEALED = "review_revealed"
    # The account's data: an export ready to download, a deletion scheduled or cancelled.
    PRIVACY_NOTICE = "privacy_notice"
    # An imported iCal feed marks taken nights a booking here already holds: the host and admins check both sites.
    CALENDAR_CONFLICT = "calendar_conflict"
    # An admin started a support conversation with the user.
    SUPPORT_CONVERSATION = "support_conversation"


# Security messages reach the user whatever their preferences and quiet hours say.
SECURITY_KINDS = frozenset(
    {
        NotificationKind.OTP,
        NotificationKind.SIGNUP_ATTEMPT,
        NotificationKind.SECURITY_ALERT,
        NotificationKind.PRIVACY_NOTICE,
    }
)
# Worth waking someone for: a ticket bought at the gate must show on the phone now.
URGENT_KINDS = SECURITY_KINDS | {NotificationKind.TICKET_ISSUED}


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class ChannelDelivery(BaseModel):
    status: DeliveryStatus = DeliveryStatus.QUEUED
    attempts: int = 0
    # Quiet hours hold a delivery until this time (UTC).
    scheduled_for: datetime | None = None
    provider: str | None = None
    vendor_message_id: str | None = None
    reason: str | None = None
    updated_at: datetime = Field(default_factory=stored_now)


class Notification(Document):
    user_id: str
    kind: NotificationKind
    title: str
    body: str
    # Where the app takes the user when the notification is opened (booking_id, url...).
    data: dict[str, str] = Field(default_factory=dict)
    locale: str
    # What the templates were rendered from (JSON values), so each channel's delivery renders the same message.
    context: dict[str, Any] = Field(default_factory=dict)
    # One notification per user and key: a repeated event or a retried job stores nothing twice.
    dedupe_key: str | None = None
    deliveries: dict[Channel, ChannelDelivery] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=stored_now)
    read_at: datetime | None = None

    class Settings:
        name = "notifications"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("_id", DESCENDING)], name="inbox"),
            IndexModel([("user_id", ASCENDING), ("read_at", ASCENDING)], name="unread"),
            IndexModel(
                [("user_id", ASCENDING), ("dedupe_key", ASCENDING)],
                unique=True,
                partialFilterExpression={"dedupe_key": {"$type": "string"}},
                name="once_per_key",
            ),
        ]

    @classmethod
    async def start_attempt(cls, notification_id: PydanticObjectId, channel: Channel) -> "Notification | None":
        """Count one more try of a queued delivery; None when it is no longer queued (sent or failed already)."""
        raw = await cls.get_pymongo_collection().find_one_and_update(
            {"_id": notification_id, f"deliveries.{channel}.status": DeliveryStatus.QUEUED.value},
            {"$inc": {f"deliveries.{channel}.attempts": 1}, "$set": {f"deliveries.{channel}.updated_at": stored_now()}},
            return_document=ReturnDocument.AFTER,
        )
        return cls.model_validate(raw) if raw else None

    @classmethod
    async def record_sent(
        cls, notification_id: PydanticObjectId, channel: Channel, provider: str, vendor_message_id: str | None
    ) -> None:
        await cls._settle(
            notification_id,
            channel,
            {
                "status": DeliveryStatus.SENT.value,
                "provider": provider,
                "vendor_message_id": vendor_message_id,
                "reason": None,
            },
        )

    @classmethod
    async def record_failure(
        cls, notification_id: PydanticObjectId, channel: Channel, provider: str, reason: str, *, final: bool
    ) -> None:
        """Keep the vendor's reason; a final failure ends the delivery, any other leaves it queued for the retry."""
        changes: dict[str, Any] = {"provider": provider, "reason": reason}
        if final:
            changes["status"] = DeliveryStatus.FAILED.value
        await cls._settle(notification_id, channel, changes)

    @classmethod
    async def _settle(cls, notification_id: PydanticObjectId, channel: Channel, changes: dict[str, Any]) -> None:
        fields = {f"deliveries.{channel}.{name}": value for name, value in changes.items()}
        await cls.get_pymongo_collection().update_one(
            {"_id": notification_id, f"deliveries.{channel}.status": DeliveryStatus.QUEUED.value},
            {"$set": {**fields, f"deliveries.{channel}.updated_at": stored_now()}},
        )

    @classmethod
    async def mark_read(cls, user_id: str, notification_id: PydanticObjectId) -> bool:
        """Mark one of the user's notifications read (reading it again changes nothing); False if it is not theirs."""
        collection = cls.get_pymongo_collection()
        result = await collection.update_one(
            {"_id": notification_id, "user_id": user_id, "read_at": None}, {"$set": {"read_at": stored_now()}}
        )
        if result.modified_count:
            return True
        return await collection.count_documents({"_id": notification_id, "user_id": user_id}, limit=1) == 1

    @classmethod
    async def mark_all_read(cls, user_id: str) -> int:
        result = await cls.get_pymongo_collection().update_many(
            {"user_id": user_id, "read_at": None}, {"$set": {"read_at": stored_now()}}
        )
        return result.modified_count

    @classmethod
    async def unread_count(cls, user_id: str) -> int:
        return await cls.find({"user_id": user_id, "read_at": None}).count()
