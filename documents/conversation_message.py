"""One message of a conversation: its text as written, the same text with contact points hidden, its attachments."""

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from documents.clock import stored_now
from documents.conversation import ParticipantRole


class MessageNotice(StrEnum):
    """What a message written by the platform, not typed by its sender, tells the participants."""

    ADMIN_JOINED = "admin_joined"


class ConversationMessage(Document):
    conversation_id: PydanticObjectId
    sender_id: str
    sender_role: ParticipantRole
    # As written: shown once the booking is confirmed, and to an admin reading a reported conversation.
    text: str
    # With phone numbers and email addresses hidden: shown until then.
    masked_text: str
    hid_contacts: bool = False
    attachment_ids: list[str] = Field(default_factory=list)
    # The sender's own id for this message: a retried send stores nothing twice.
    client_id: str
    # Set on a notice (its text is empty): the sender is who it is about, and the apps word it themselves.
    notice: MessageNotice | None = None
    created_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "conversation_messages"
        indexes = [
            IndexModel([("conversation_id", ASCENDING), ("_id", DESCENDING)], name="history"),
            IndexModel(
                [("conversation_id", ASCENDING), ("sender_id", ASCENDING), ("client_id", ASCENDING)],
                unique=True,
                name="one_message_per_client_id",
            ),
        ]
