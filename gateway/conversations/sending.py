"""Sending a message: checked, rate limited, its contact points masked, stored once however often it is retried,
then delivered live to every participant's user room (a push to the others' phones when they are offline); and
the notices the platform posts into a conversation (an admin joined it), delivered the same way."""

from typing import Annotated

from bson import ObjectId
from pydantic import Field, model_validator
from pymongo.errors import DuplicateKeyError

from documents.conversation import Conversation
from documents.conversation_message import ConversationMessage, MessageNotice
from documents.stored_file import FileStatus, StoredFile
from gateway.conversations.access import contacts_visible, conversation_of
from gateway.conversations.contacts import mask_contacts
from gateway.conversations.problems import AttachmentRefused, MessagesRateLimited
from gateway.conversations.reading import attached_files, message_view
from gateway.logs import get_logger
from gateway.messaging import BusUnavailable, Outgoing, PushNotice, user_room
from gateway.messaging.catalogue import MESSAGE_CREATED
from gateway.notifications.preferences import preferences_of
from gateway.problems import input_prefix
from gateway.request_models import RequestModel
from gateway.security.callers import ADMIN, Caller
from gateway.services import Services

log = get_logger("lango.conversations")
MAX_TEXT_CHARS = 4000
MAX_ATTACHMENTS = 5
PUSH_BODY_CHARS = 160
# locale -> (title by who wrote, the body of a message that is only an attachment, the body of each notice)
_PUSH_WORDING: dict[str, tuple[dict[str, str], str, dict[MessageNotice, str]]] = {
    "en": (
        {
            "guest": "New message from your guest",
            "host": "New message from your host",
            "admin": "Message from Lango support",
        },
        "Sent an attachment",
        {MessageNotice.ADMIN_JOINED: "Lango support joined this conversation"},
    ),
    "sw": (
        {
            "guest": "Ujumbe mpya kutoka kwa mgeni wako",
            "host": "Ujumbe mpya kutoka kwa mwenyeji wako",
            "admin": "Ujumbe kutoka kwa huduma kwa wateja ya Lango",
        },  # fmt: skip
        "Ametuma kiambatisho",
        {MessageNotice.ADMIN_JOINED: "Huduma kwa wateja ya Lango imejiunga na mazungumzo haya"},
    ),
}
FileId = Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")]


class MessageRequest(RequestModel):
    """`client_id` is the app's own id for the message: a send retried with the same one answers the same message."""

    client_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
    text: Annotated[str, Field(max_length=MAX_TEXT_CHARS)] = ""
    attachment_ids: Annotated[list[FileId], Field(max_length=MAX_ATTACHMENTS)] = []

    @model_validator(mode="after")
    def _not_empty(self) -> "MessageRequest":
        if not self.text and not self.attachment_ids:
            raise ValueError("a message needs text or an attachment")
        return self


async def send_message(
    services: Services, caller: Caller, conversation_id: str, request: MessageRequest
) -> tuple[ConversationMessage, bool]:
    """Store the message and deliver it; answers it, and whether contacts show in it."""
    conversation, role = await conversation_of(caller, conversation_id)
    earlier = await _sent_before(conversation, caller, request.client_id)
    visible = await contacts_visible(conversation)
    if earlier is not None:
        return earlier, visible
    try:
        await services.limits.hit(
            "messages_per_user", caller.user_id, refusal="too many messages; wait a moment", problem=MessagesRateLimited
        )
    except MessagesRateLimited:
        # A retry racing the send it repeats may find the window full: once that send is stored, it is the answer.
        earlier = await _sent_before(conversation, caller, request.client_id)
        if earlier is None:
            raise
        return earlier, visible
    attachment_ids = await _own_ready_files(caller, request.attachment_ids)
    masked = mask_contacts(request.text)
    message = ConversationMessage(
        conversation_id=conversation.id,  # type: ignore[arg-type]
        sender_id=caller.user_id,
        sender_role=role,
        text=request.text,
        masked_text=masked.text,
        hid_contacts=masked.hid_contacts,
        attachment_ids=attachment_ids,
        client_id=request.client_id,
    )
    try:
        await message.insert()
    except DuplicateKeyError:
        # The same send arrived twice at once: the other one stored (and delivers) it.
        return await _sent_before(conversation, caller, request.client_id) or message, visible
    await conversation.note_message(message.id, message.created_at)  # type: ignore[arg-type]
    await _deliver(services, conversation, message, visible)
    return message, visible


async def post_notice(services: Services, conversation: Conversation, admin_id: str, notice: MessageNotice) -> None:
    """Tell every participant, in the thread and live, that an admin took part; once per admin and notice however
    often (or however concurrently) it is posted."""
    message = ConversationMessage(
        conversation_id=conversation.id,  # type: ignore[arg-type]
        sender_id=admin_id,
        sender_role="admin",
        text="",
        masked_text="",
        client_id=f"{notice.value}-{admin_id}",
        notice=notice,
    )
    try:
        await message.insert()
    except DuplicateKeyError:
        return
    await conversation.note_message(message.id, message.created_at)  # type: ignore[arg-type]
    await _deliver(services, conversation, message, await contacts_visible(conversation))


async def _sent_before(conversation: Conversation, caller: Caller, client_id: str) -> ConversationMessage | None:
    return await ConversationMessage.find_one(
        {"conversation_id": conversation.id, "sender_id": caller.user_id, "client_id": client_id}
    )


async def _own_ready_files(caller: Caller, file_ids: list[str]) -> list[str]:
    """The ids, provided each is a confirmed file the sender uploaded (admins included: nobody attaches others')."""
    wanted = list(dict.fromkeys(file_ids))
    if not wanted:
        return []
    found = await StoredFile.find(
        {
            "_id": {"$in": [ObjectId(file_id) for file_id in wanted]},
            "owner_id": caller.user_id,
            "status": FileStatus.READY.value,
        }
    ).to_list()
    missing = set(wanted) - {str(file.id) for file in found}
    if missing:
        raise AttachmentRefused(f"not a confirmed file of yours: {input_prefix(sorted(missing)[0])}")
    return wanted


async def _deliver(services: Services, conversation: Conversation, message: ConversationMessage, visible: bool) -> None:
    """One `message.created` to each participant's room, each rendered for its reader; the others get a push."""
    files = await attached_files([message])
    events = []
    for reader_id in conversation.participants:
        reader = Caller(reader_id, frozenset({ADMIN}) if reader_id in conversation.admin_ids else frozenset(), "")
        view = await message_view(services, reader, message, visible, files)
        push = None
        if reader_id != message.sender_id:
            locale = (await preferences_of(services, reader_id)).locale
            push = _push_notice(message, view.text, locale)
        events.append(
            Outgoing(
                user_room(reader_id),
                MESSAGE_CREATED,
                view.model_dump(mode="json"),
                collapse_key=f"conversation:{conversation.id}",
                push=push,
            )
        )
    try:
        await services.bus.publish_many(events)
    except BusUnavailable as error:
        # The message is stored: the readers find it in the history when they next open the conversation.
        log.warning("message stored but not delivered live", conversation_id=str(conversation.id), error=str(error))


def _push_notice(message: ConversationMessage, shown_text: str, locale: str) -> PushNotice:
    """What the reader's phone shows, in the reader's language: who wrote, and the text as the reader would see it."""
    title, attachment_only, notices = _PUSH_WORDING[locale if locale in _PUSH_WORDING else "en"]
    body = notices[message.notice] if message.notice else shown_text or attachment_only
    if len(body) > PUSH_BODY_CHARS:
        body = body[: PUSH_BODY_CHARS - 1] + "…"
    return PushNotice(title=title[message.sender_role], body=body)
