"""Read receipts (kept, and published to every participant) and typing indicators (rate limited, never kept)."""

from beanie import PydanticObjectId
from bson import ObjectId

from documents.clock import stored_now
from documents.conversation_message import ConversationMessage
from gateway.conversations.access import conversation_of
from gateway.conversations.problems import MessageNotFound
from gateway.conversations.views import ReadReceipt
from gateway.logs import get_logger
from gateway.messaging import BusUnavailable, Outgoing, user_room
from gateway.messaging.catalogue import CONVERSATION_READ, CONVERSATION_TYPING
from gateway.security.callers import Caller
from gateway.services import Services

log = get_logger("lango.conversations")


async def mark_read(services: Services, caller: Caller, conversation_id: str, message_id: str) -> ReadReceipt:
    """Move the caller's read mark up to the message; the participants hear of it when it moved."""
    conversation, role = await conversation_of(caller, conversation_id)
    message = (
        await ConversationMessage.find_one({"_id": ObjectId(message_id), "conversation_id": conversation.id})
        if ObjectId.is_valid(message_id)
        else None
    )
    if message is None:
        raise MessageNotFound()
    moved = await conversation.mark_read(caller.user_id, message.id)  # type: ignore[arg-type]
    current = (moved or conversation).read_up_to.get(caller.user_id, PydanticObjectId(message_id))
    receipt = ReadReceipt(
        conversation_id=str(conversation.id),
        user_id=caller.user_id,
        role=role,
        last_read_message_id=str(current),
        read_at=stored_now(),
    )
    if moved is not None:
        data = receipt.model_dump(mode="json")
        try:
            await services.bus.publish_many(
                [Outgoing(user_room(reader_id), CONVERSATION_READ, data) for reader_id in moved.participants]
            )
        except BusUnavailable as error:
            # The mark is stored: the others see it in the conversation when they next load it.
            log.warning(
                "read receipt stored but not delivered live", conversation_id=str(conversation.id), error=str(error)
            )
    return receipt


async def signal_typing(services: Services, caller: Caller, conversation_id: str, typing: bool) -> int:
    """Tell the other participants' sockets, on any node, that the caller is (or stopped) typing; answers how many
    of them are connected somewhere."""
    conversation, role = await conversation_of(caller, conversation_id)
    await services.limits.hit("typing_signals_per_user", caller.user_id, refusal="typing indicators too often")
    data = {"conversation_id": str(conversation.id), "user_id": caller.user_id, "role": role, "typing": typing}
    reached = 0
    for reader_id in conversation.participants:
        if reader_id != caller.user_id:
            reached += await services.bus.transient.signal(user_room(reader_id), CONVERSATION_TYPING, data) > 0
    return reached
