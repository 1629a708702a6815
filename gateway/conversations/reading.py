"""Conversations and their messages as one reader sees them: contact points hidden or not, attachments with
signed URLs, unread counts, pages newest first."""

from collections.abc import Iterable
from datetime import UTC, datetime

from beanie import PydanticObjectId
from bson import ObjectId

from documents.conversation import Conversation
from documents.conversation_message import ConversationMessage
from documents.stored_file import FileStatus, StoredFile
from gateway.conversations.access import contacts_visible
from gateway.conversations.views import ConversationPage, ConversationView, MessagePage, MessageView
from gateway.files.lifecycle import file_view
from gateway.paging import newest_first
from gateway.problems import MalformedRequest
from gateway.security.callers import Caller
from gateway.services import Services


async def attached_files(messages: Iterable[ConversationMessage]) -> dict[str, StoredFile]:
    """The files the messages carry that still exist, by id: a file its sender deleted is no longer shown."""
    ids = {PydanticObjectId(file_id) for message in messages for file_id in message.attachment_ids}
    if not ids:
        return {}
    found = await StoredFile.find({"_id": {"$in": list(ids)}, "status": FileStatus.READY.value}).to_list()
    return {str(file.id): file for file in found}


async def message_view(
    services: Services, reader: Caller, message: ConversationMessage, visible: bool, files: dict[str, StoredFile]
) -> MessageView:
    """The message for `reader`; `visible` says whether contact points show."""
    hidden = message.hid_contacts and not visible
    return MessageView(
        id=str(message.id),
        conversation_id=str(message.conversation_id),
        sender_id=message.sender_id,
        sender_role=message.sender_role,
        text=message.masked_text if hidden else message.text,
        contacts_hidden=hidden,
        attachments=[
            await file_view(services, reader, files[file_id]) for file_id in message.attachment_ids if file_id in files
        ],
        client_id=message.client_id,
        notice=message.notice,
        created_at=message.created_at,
    )


async def messages_page(
    services: Services, reader: Caller, conversation: Conversation, visible: bool, cursor: str | None, limit: int
) -> MessagePage:
    messages, next_cursor = await newest_first(ConversationMessage, {"conversation_id": conversation.id}, cursor, limit)
    files = await attached_files(messages)
    return MessagePage(
        items=[await message_view(services, reader, message, visible, files) for message in messages],
        next_cursor=next_cursor,
    )


async def unread_count(conversation: Conversation, user_id: str) -> int:
    """Messages of the others newer than the user's read mark."""
    scope: dict = {"conversation_id": conversation.id, "sender_id": {"$ne": user_id}}
    read_up_to = conversation.read_up_to.get(user_id)
    if read_up_to is not None:
        scope["_id"] = {"$gt": ObjectId(read_up_to)}
    return await ConversationMessage.find(scope).count()


async def conversation_view(conversation: Conversation, reader_id: str) -> ConversationView:
    return ConversationView(
        id=str(conversation.id),
        kind=conversation.kind,
        property_id=str(conversation.property_id) if conversation.property_id else None,
        booking_id=str(conversation.booking_id) if conversation.booking_id else None,
        guest_id=conversation.guest_id,
        host_id=conversation.host_id,
        admin_ids=conversation.admin_ids,
        enquiry_id=str(conversation.enquiry_id) if conversation.enquiry_id else None,
        contacts_visible=await contacts_visible(conversation),
        read_up_to={user_id: str(message_id) for user_id, message_id in conversation.read_up_to.items()},
        unread=await unread_count(conversation, reader_id),
        last_message_id=str(conversation.last_message_id) if conversation.last_message_id else None,
        last_message_at=conversation.last_message_at,
        reported=conversation.reported_at is not None,
        created_at=conversation.created_at,
    )


async def conversations_page(caller: Caller, cursor: str | None, limit: int) -> ConversationPage:
    """The conversations the caller takes part in, the latest written in first.

    The cursor is the last one's activity time and id: a conversation written in meanwhile moves to the top of the
    first page, never into a later one twice."""
    mine: dict = {"$or": [{"guest_id": caller.user_id}, {"host_id": caller.user_id}, {"admin_ids": caller.user_id}]}
    if cursor is not None:
        active_at, after_id = _activity_cursor(cursor)
        older = {"$or": [{"active_at": {"$lt": active_at}}, {"active_at": active_at, "_id": {"$lt": after_id}}]}
        mine = {"$and": [mine, older]}
    found = await Conversation.find(mine).sort([("active_at", -1), ("_id", -1)]).limit(limit + 1).to_list()
    page = found[:limit]
    next_cursor = None
    if len(found) > limit:
        last = page[-1]
        next_cursor = f"{int(last.active_at.timestamp() * 1000)}.{last.id}"
    return ConversationPage(
        items=[await conversation_view(conversation, caller.user_id) for conversation in page], next_cursor=next_cursor
    )


def _activity_cursor(cursor: str) -> tuple[datetime, ObjectId]:
    milliseconds, _, conversation_id = cursor.partition(".")
    if not milliseconds.isdigit() or len(milliseconds) > 15 or not ObjectId.is_valid(conversation_id):
        raise MalformedRequest("the cursor is not one this listing gave out")
    return datetime.fromtimestamp(int(milliseconds) / 1000, UTC), ObjectId(conversation_id)
