"""Support conversations: an admin writes to one member, as a guest or as a host; audited, the member notified and
the message delivered live. One thread per member and side: another admin opening it joins it, and both are told."""

from typing import Annotated, Literal

from beanie import PydanticObjectId
from pydantic import Field

from documents.audit import AuditEvent, AuditKind
from documents.conversation import Conversation, ConversationKind
from documents.conversation_message import ConversationMessage, MessageNotice
from documents.notification import NotificationKind
from documents.user import User
from gateway.conversations.access import find_or_insert
from gateway.conversations.problems import ConversationNotOpen
from gateway.conversations.sending import MessageRequest, post_notice, send_message
from gateway.notifications.dispatch import notify
from gateway.problems import NotFound
from gateway.request_models import RequestModel
from gateway.security.callers import Caller
from gateway.services import Services


class SupportRequest(RequestModel):
    """`role`: whether the member is written to about their stays (`guest`) or their listings (`host`)."""

    user_id: Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")]
    role: Literal["guest", "host"] = "guest"
    message: MessageRequest


async def open_support(
    services: Services, admin: Caller, request: SupportRequest, client_address: str | None
) -> tuple[Conversation, ConversationMessage]:
    """The member's support thread on that side (started if they have none, joined if another admin runs it) with
    the admin's message in it."""
    member = await User.get(PydanticObjectId(request.user_id))
    if member is None:
        raise NotFound("no such user")
    if request.user_id == admin.user_id:
        raise ConversationNotOpen("an admin does not open a support conversation with themselves")
    if request.role == "host" and "agent" not in member.roles:
        raise ConversationNotOpen("this user does not host; write to them as a guest")
    side = {"guest_id": request.user_id, "host_id": None}
    if request.role == "host":
        side = {"guest_id": None, "host_id": request.user_id}
    fresh = Conversation(kind=ConversationKind.SUPPORT, admin_ids=[admin.user_id], **side)
    conversation = await find_or_insert(fresh, {"kind": ConversationKind.SUPPORT.value, **side})
    if admin.user_id not in conversation.admin_ids:
        conversation = await conversation.add_admin(admin.user_id) or conversation
        await post_notice(services, conversation, admin.user_id, MessageNotice.ADMIN_JOINED)
    await AuditEvent.record(
        AuditKind.SUPPORT_CONVERSATION_OPENED,
        user_id=member.id,
        actor_id=PydanticObjectId(admin.user_id),
        client_address=client_address,
        conversation_id=str(conversation.id),
    )
    message, _ = await send_message(services, admin, str(conversation.id), request.message)
    # Once per thread: later messages reach the member live and as pushes, like any conversation's.
    await notify(
        services,
        request.user_id,
        NotificationKind.SUPPORT_CONVERSATION,
        {},
        dedupe_key=f"support_conversation:{conversation.id}",
        data={"conversation_id": str(conversation.id)},
    )
    return conversation, message
