"""What the conversation routes and events answer: a conversation as one of its participants sees it, a message,
a page of either, a read receipt."""

from datetime import datetime

from pydantic import BaseModel

from documents.conversation import ConversationKind, ParticipantRole, ReportReason
from documents.conversation_message import MessageNotice
from gateway.files.views import FileView


class MessageView(BaseModel):
    """`text` has phone numbers and email addresses hidden (`contacts_hidden`) until the booking is confirmed.
    A `notice` (such as `admin_joined`, sent as its admin) has no text: the app words it in the reader's language."""

    id: str
    conversation_id: str
    sender_id: str
    sender_role: ParticipantRole
    text: str
    contacts_hidden: bool
    attachments: list[FileView]
    client_id: str
    notice: MessageNotice | None = None
    created_at: datetime


class ConversationView(BaseModel):
    id: str
    kind: ConversationKind
    # None for a support conversation, which has its member on one side only (`guest_id` or `host_id`).
    property_id: str | None
    booking_id: str | None
    guest_id: str | None
    host_id: str | None
    admin_ids: list[str]
    # A booking's conversation: the guest's earlier enquiry about the listing, which both sides can still read.
    enquiry_id: str | None = None
    # Whether phone numbers and email addresses show: only while its booking is confirmed or completed.
    contacts_visible: bool
    # user id -> the id of the newest message they have read: the other side's read receipts
    read_up_to: dict[str, str]
    unread: int
    last_message_id: str | None
    last_message_at: datetime | None
    reported: bool
    created_at: datetime


class ConversationPage(BaseModel):
    items: list[ConversationView]
    next_cursor: str | None


class MessagePage(BaseModel):
    """Newest first; pass `next_cursor` back as `cursor` for older messages."""

    items: list[MessageView]
    next_cursor: str | None


class ReadReceipt(BaseModel):
    """Published to every participant as `conversation.read`."""

    conversation_id: str
    user_id: str
    role: ParticipantRole
    last_read_message_id: str
    read_at: datetime


class ReportView(BaseModel):
    by: str
    reason: ReportReason
    details: str
    at: datetime


class ReportedConversation(BaseModel):
    """What the admins' queue shows of a reported conversation before anyone reads it."""

    id: str
    kind: ConversationKind
    # None for a support conversation, which has its member on one side only (`guest_id` or `host_id`).
    property_id: str | None
    booking_id: str | None
    guest_id: str | None
    host_id: str | None
    admin_ids: list[str]
    reports: list[ReportView]
    reported_at: datetime | None


class ReportedPage(BaseModel):
    items: list[ReportedConversation]
    next_cursor: str | None
