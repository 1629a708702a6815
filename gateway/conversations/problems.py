"""The problems conversation routes answer with, each with a stable type a client can act on."""

from gateway.problems import Conflict, NotFound, TooManyRequests, ValidationFailed


class ConversationNotFound(NotFound):
    slug, title = "conversation-not-found", "No such conversation"


class MessageNotFound(NotFound):
    slug, title = "message-not-found", "No such message in this conversation"


class ConversationNotOpen(Conflict):
    slug, title = "conversation-not-open", "This conversation cannot be started"


class AttachmentRefused(ValidationFailed):
    slug, title = "attachment-refused", "Attach only files you uploaded and confirmed yourself"


class ConversationNotReported(Conflict):
    slug, title = "conversation-not-reported", "Admins read a conversation only once a participant has reported it"


class MessagesRateLimited(TooManyRequests):
    slug, title = "messages-rate-limited", "Too many messages; wait a moment"
