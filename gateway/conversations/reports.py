"""Reporting a conversation, and what admins may then do: see the queue of reported ones, read one (audited),
join it to speak with both sides."""

from typing import Annotated

from beanie import PydanticObjectId
from pydantic import Field

from documents.audit import AuditEvent, AuditKind
from documents.conversation import Conversation, ConversationReport, ReportReason
from documents.conversation_message import MessageNotice
from gateway.conversations.access import conversation_of, reported_conversation
from gateway.conversations.problems import ConversationNotReported
from gateway.conversations.reading import conversation_view, messages_page
from gateway.conversations.sending import post_notice
from gateway.conversations.views import ConversationView, MessagePage, ReportedConversation, ReportedPage, ReportView
from gateway.paging import newest_first
from gateway.request_models import RequestModel
from gateway.security.callers import Caller
from gateway.services import Services


class ReportRequest(RequestModel):
    reason: ReportReason
    details: Annotated[str, Field(max_length=2000)] = ""


async def report_conversation(services: Services, caller: Caller, conversation_id: str, request: ReportRequest) -> None:
    """Keep a participant's report, which lets admins read the conversation; a second report of theirs is dropped."""
    conversation, _ = await conversation_of(caller, conversation_id)
    await services.limits.hit("conversation_reports_per_user", caller.user_id, refusal="too many reports today")
    report = ConversationReport(by=caller.user_id, reason=request.reason, details=request.details)
    await conversation.add_report(report)


def _reported(conversation: Conversation) -> ReportedConversation:
    return ReportedConversation(
        id=str(conversation.id),
        kind=conversation.kind,
        property_id=str(conversation.property_id) if conversation.property_id else None,
        booking_id=str(conversation.booking_id) if conversation.booking_id else None,
        guest_id=conversation.guest_id,
        host_id=conversation.host_id,
        admin_ids=conversation.admin_ids,
        reports=[ReportView(by=r.by, reason=r.reason, details=r.details, at=r.at) for r in conversation.reports],
        reported_at=conversation.reported_at,
    )


async def reported_page(cursor: str | None, limit: int) -> ReportedPage:
    """Reported conversations, newest first: who reported what, never the messages themselves."""
    found, next_cursor = await newest_first(Conversation, {"reported_at": {"$type": "date"}}, cursor, limit)
    return ReportedPage(items=[_reported(conversation) for conversation in found], next_cursor=next_cursor)


async def read_reported(
    services: Services, admin: Caller, conversation_id: str, client_address: str | None, cursor: str | None, limit: int
) -> MessagePage:
    """A page of a reported conversation's messages, as written (contact points included: they are evidence)."""
    conversation = await reported_conversation(admin, conversation_id, client_address)
    return await messages_page(services, admin, conversation, True, cursor, limit)


async def join_reported(
    services: Services, admin: Caller, conversation_id: str, client_address: str | None
) -> ConversationView:
    """The admin takes part from now on: receives its messages live and may write to both sides, who are told in the
    thread that the admin joined."""
    conversation = await reported_conversation(admin, conversation_id, client_address)
    joined = await conversation.add_admin(admin.user_id)
    if joined is None:
        raise ConversationNotReported()
    await AuditEvent.record(
        AuditKind.CONVERSATION_JOINED,
        user_id=None,
        actor_id=PydanticObjectId(admin.user_id),
        client_address=client_address,
        conversation_id=str(conversation.id),
    )
    await post_notice(services, joined, admin.user_id, MessageNotice.ADMIN_JOINED)
    return await conversation_view(joined, admin.user_id)
