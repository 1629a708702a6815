"""Who may open, take part in and read a conversation: its guest and host always, an admin only once a participant
reported it (and then every read is audited) or when the admin takes part; for everyone else it does not exist."""

from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from documents.audit import AuditEvent, AuditKind
from documents.booking import Booking, BookingStatus
from documents.conversation import Conversation, ConversationKind, ParticipantRole
from documents.property import Property, PropertyStatus
from gateway.conversations.problems import ConversationNotFound, ConversationNotOpen, ConversationNotReported
from gateway.problems import NotFound
from gateway.security.callers import Caller
from gateway.services import Services

# Contact points show while the stay is paid for: before that, guest and host could settle off the platform.
CONTACTS_VISIBLE = frozenset({BookingStatus.CONFIRMED, BookingStatus.COMPLETED})


def _object_id(value: str, missing: Exception) -> PydanticObjectId:
    if not ObjectId.is_valid(value):
        raise missing
    return PydanticObjectId(value)


async def open_booking_conversation(caller: Caller, booking_id: str) -> Conversation:
    """The booking's conversation, started by its guest or host if it has none; linked to the guest's enquiry about
    the listing, so the host reads on from what they asked before booking."""
    booking = await Booking.get(_object_id(booking_id, NotFound("no such booking")))
    if booking is None or caller.user_id not in (booking.guest_id, booking.agent_id):
        raise NotFound("no such booking")
    enquiry = await Conversation.find_one(
        {"kind": ConversationKind.ENQUIRY.value, "property_id": booking.property_id, "guest_id": booking.guest_id}
    )
    fresh = Conversation(
        kind=ConversationKind.BOOKING,
        property_id=booking.property_id,
        booking_id=booking.id,
        enquiry_id=enquiry.id if enquiry is not None else None,
        guest_id=booking.guest_id,
        host_id=booking.agent_id,
    )
    return await find_or_insert(fresh, {"kind": ConversationKind.BOOKING.value, "booking_id": booking.id})


async def open_enquiry(services: Services, caller: Caller, property_id: str) -> Conversation:
    """The caller's enquiry about a published listing, started if they have none."""
    listing = await Property.get(_object_id(property_id, NotFound("no such listing")))
    if listing is None or listing.status is not PropertyStatus.PUBLISHED:
        raise NotFound("no such listing")
    if listing.agent_id == caller.user_id:
        raise ConversationNotOpen("a host does not enquire about their own listing")
    scope = {"kind": ConversationKind.ENQUIRY.value, "property_id": listing.id, "guest_id": caller.user_id}
    existing = await Conversation.find_one(scope)
    if existing is not None:
        return existing
    await services.limits.hit(
        "enquiries_per_user", caller.user_id, refusal="too many new enquiries today; continue an existing one"
    )
    fresh = Conversation(
        kind=ConversationKind.ENQUIRY, property_id=listing.id, guest_id=caller.user_id, host_id=listing.agent_id
    )
    return await find_or_insert(fresh, scope)


async def find_or_insert(fresh: Conversation, scope: dict[str, Any]) -> Conversation:
    """The conversation `scope` finds, else `fresh` once inserted; a unique index makes racing opens agree."""
    existing = await Conversation.find_one(scope)
    if existing is not None:
        return existing
    try:
        await fresh.insert()
    except DuplicateKeyError:
        # Both sides opened it at once: the other insert won, and that one is the conversation.
        existing = await Conversation.find_one(scope)
        if existing is None:
            raise
        return existing
    return fresh


async def conversation_of(caller: Caller, conversation_id: str) -> tuple[Conversation, ParticipantRole]:
    """A conversation the caller takes part in, and their role in it; 404 for anyone else, admins included."""
    conversation = await Conversation.get(_object_id(conversation_id, ConversationNotFound()))
    role = conversation.role_of(caller.user_id) if conversation is not None else None
    if conversation is None or role is None:
        raise ConversationNotFound()
    return conversation, role


async def reported_conversation(caller: Caller, conversation_id: str, client_address: str | None) -> Conversation:
    """A reported conversation an admin is about to read; the read is audited. 409 when nobody reported it."""
    conversation = await Conversation.get(_object_id(conversation_id, ConversationNotFound()))
    if conversation is None:
        raise ConversationNotFound()
    if conversation.reported_at is None:
        raise ConversationNotReported()
    await AuditEvent.record(
        AuditKind.CONVERSATION_READ,
        user_id=None,
        actor_id=PydanticObjectId(caller.user_id),
        client_address=client_address,
        conversation_id=str(conversation.id),
    )
    return conversation


async def contacts_visible(conversation: Conversation) -> bool:
    """Whether the participants see each other's phone numbers and email addresses now: support shows them (nobody
    there is paid off the platform), guest and host see them only while the stay is paid for."""
    if conversation.kind is ConversationKind.SUPPORT:
        return True
    if conversation.kind is not ConversationKind.BOOKING or conversation.booking_id is None:
        return False
    booking = await Booking.get(conversation.booking_id)
    return booking is not None and booking.status in CONTACTS_VISIBLE
