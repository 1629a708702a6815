"""Conversation routes: open one about a booking or a listing, send and read messages, read receipts, reports;
admins' support conversations with a member, queue of reported conversations, audited reading and joining."""

from typing import Annotated

from aiohttp import web
from pydantic import Field, model_validator

from gateway.conversations.access import contacts_visible, conversation_of, open_booking_conversation, open_enquiry
from gateway.conversations.reading import (
    attached_files,
    conversation_view,
    conversations_page,
    message_view,
    messages_page,
)
from gateway.conversations.reports import (
    ReportRequest,
    join_reported,
    read_reported,
    report_conversation,
    reported_page,
)
from gateway.conversations.sending import MessageRequest, send_message
from gateway.conversations.signals import mark_read
from gateway.conversations.support import SupportRequest, open_support
from gateway.conversations.views import (
    ConversationPage,
    ConversationView,
    MessagePage,
    MessageView,
    ReadReceipt,
    ReportedPage,
)
from gateway.http_access import AUTHENTICATED, roles
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="conversations")
ADMINS = roles("admin")
ObjectIdText = Annotated[str, Field(pattern=r"^[0-9a-f]{24}$")]


class OpenConversation(RequestModel):
    """Exactly one: `booking_id` (its guest or host) or `property_id` (an enquiry before booking)."""

    booking_id: ObjectIdText | None = None
    property_id: ObjectIdText | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> "OpenConversation":
        if (self.booking_id is None) == (self.property_id is None):
            raise ValueError("give either booking_id or property_id")
        return self


class PageQuery(RequestModel):
    cursor: Annotated[str, Field(max_length=64)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 30


class ReadRequest(RequestModel):
    message_id: ObjectIdText


@routes.post(
    "/v1/conversations",
    body=OpenConversation,
    response=ConversationView,
    status=201,
    access=AUTHENTICATED,
    problems=(400, 401, 404, 409, 415, 422, 429),
    summary="Open the conversation of a booking, or an enquiry about a listing",
    description="Answers the existing conversation when there is one (with 201 too): opening twice, or from both "
    "sides at once, gives one conversation. Enquiries count against `rate_limits.enquiries_per_user`.",
)
async def open_conversation(request: web.Request, caller: Caller, body: OpenConversation) -> ConversationView:
    services = request.app[SERVICES]
    if body.booking_id is not None:
        conversation = await open_booking_conversation(caller, body.booking_id)
    else:
        conversation = await open_enquiry(services, caller, body.property_id or "")
    return await conversation_view(conversation, caller.user_id)


@routes.get(
    "/v1/conversations",
    query=PageQuery,
    response=ConversationPage,
    access=AUTHENTICATED,
    problems=(400, 401),
    summary="The caller's conversations, the latest written in first",
    description="Pass `next_cursor` back as `cursor` for the next page.",
)
async def list_conversations(request: web.Request, caller: Caller, query: PageQuery) -> ConversationPage:
    return await conversations_page(caller, query.cursor, query.limit)


@routes.get(
    "/v1/conversations/{conversation_id}",
    response=ConversationView,
    access=AUTHENTICATED,
    problems=(401, 404),
    summary="One conversation the caller takes part in",
)
async def get_conversation(request: web.Request, caller: Caller) -> ConversationView:
    conversation, _ = await conversation_of(caller, request.match_info["conversation_id"])
    return await conversation_view(conversation, caller.user_id)


@routes.get(
    "/v1/conversations/{conversation_id}/messages",
    query=PageQuery,
    response=MessagePage,
    access=AUTHENTICATED,
    problems=(400, 401, 404),
    summary="A conversation's messages, newest first",
    description="Pass `next_cursor` back as `cursor` for older messages. Phone numbers and email addresses are "
    "hidden until the booking is confirmed (`contacts_hidden`).",
)
async def list_messages(request: web.Request, caller: Caller, query: PageQuery) -> MessagePage:
    conversation, _ = await conversation_of(caller, request.match_info["conversation_id"])
    visible = await contacts_visible(conversation)
    return await messages_page(request.app[SERVICES], caller, conversation, visible, query.cursor, query.limit)


@routes.post(
    "/v1/conversations/{conversation_id}/messages",
    body=MessageRequest,
    response=MessageView,
    status=201,
    access=AUTHENTICATED,
    problems=(400, 401, 404, 415, 422, 429),
    summary="Send a message",
    description="Every participant's sockets get `message.created`; the others' phones get a push when they are "
    "offline. Attachments are files the sender uploaded and confirmed (`POST /v1/files`). Sending again with the "
    "same `client_id` answers the message already sent. Limited by `rate_limits.messages_per_user`.",
)
async def post_message(request: web.Request, caller: Caller, body: MessageRequest) -> MessageView:
    services = request.app[SERVICES]
    message, visible = await send_message(services, caller, request.match_info["conversation_id"], body)
    return await message_view(services, caller, message, visible, await attached_files([message]))


@routes.post(
    "/v1/conversations/{conversation_id}/read",
    body=ReadRequest,
    response=ReadReceipt,
    access=AUTHENTICATED,
    problems=(400, 401, 404, 415, 422),
    summary="Mark the conversation read up to a message",
    description="The participants get `conversation.read` when the caller's mark moves forward; an older message "
    "leaves it where it is (and answers it).",
)
async def read_up_to(request: web.Request, caller: Caller, body: ReadRequest) -> ReadReceipt:
    return await mark_read(request.app[SERVICES], caller, request.match_info["conversation_id"], body.message_id)


@routes.post(
    "/v1/conversations/{conversation_id}/reports",
    body=ReportRequest,
    status=202,
    access=AUTHENTICATED,
    problems=(400, 401, 404, 415, 422, 429),
    summary="Report a conversation to the admins",
    description="From then on an admin may read the conversation (each read is in the audit log) and join it. "
    "Reporting again changes nothing.",
)
async def report(request: web.Request, caller: Caller, body: ReportRequest) -> None:
    await report_conversation(request.app[SERVICES], caller, request.match_info["conversation_id"], body)


@routes.get(
    "/v1/admin/conversations/reported",
    query=PageQuery,
    response=ReportedPage,
    access=ADMINS,
    problems=(400, 401, 403),
    summary="Reported conversations and their reports, newest first (no messages)",
)
async def list_reported(request: web.Request, caller: Caller, query: PageQuery) -> ReportedPage:
    return await reported_page(query.cursor, query.limit)


@routes.get(
    "/v1/admin/conversations/{conversation_id}/messages",
    query=PageQuery,
    response=MessagePage,
    access=ADMINS,
    problems=(400, 401, 403, 404, 409),
    summary="Read a reported conversation (audited)",
    description="Only once a participant reported it (409 otherwise); messages as written, contacts included. "
    "Every page read is recorded in the audit log as `conversation_read`.",
)
async def admin_read(request: web.Request, caller: Caller, query: PageQuery) -> MessagePage:
    conversation_id = request.match_info["conversation_id"]
    return await read_reported(
        request.app[SERVICES], caller, conversation_id, request.remote, query.cursor, query.limit
    )


@routes.post(
    "/v1/admin/conversations/{conversation_id}/join",
    response=ConversationView,
    access=ADMINS,
    problems=(401, 403, 404, 409),
    summary="Join a reported conversation (audited)",
    description="The admin then takes part like its guest and host: gets its messages live and may write. Every "
    "participant gets a `message.created` whose `notice` is `admin_joined` (once per admin), kept in the history.",
)
async def admin_join(request: web.Request, caller: Caller) -> ConversationView:
    return await join_reported(request.app[SERVICES], caller, request.match_info["conversation_id"], request.remote)


@routes.post(
    "/v1/admin/conversations/support",
    body=SupportRequest,
    response=MessageView,
    status=201,
    access=ADMINS,
    problems=(400, 401, 403, 404, 409, 415, 422, 429),
    summary="Write to a member in their support conversation (audited)",
    description="Opens the member's support thread on the given side (`guest`, or `host` for a member who hosts) "
    "or continues it; an admin new to the thread joins it and its participants get an `admin_joined` notice. "
    "Answers the message sent: every participant gets `message.created` live, the member a push when offline and, "
    "once per thread, a `support_conversation` notification. The admin and the member then carry on through "
    "`/v1/conversations/{id}/messages`. Each call is in the audit log as `support_conversation_opened`.",
)
async def admin_support(request: web.Request, caller: Caller, body: SupportRequest) -> MessageView:
    services = request.app[SERVICES]
    _, message = await open_support(services, caller, body, request.remote)
    return await message_view(services, caller, message, True, await attached_files([message]))
