"""The messages flows publish, by type: the one place for them, as docs/events.md lists them."""

BOOKING_UPDATED = "booking.updated"
PAYMENT_UPDATED = "payment.updated"
TICKET_ISSUED = "ticket.issued"
CHECKIN_STATS = "checkin.stats"
NOTIFICATION_CREATED = "notification.created"
BROADCAST_PROGRESS = "broadcast.progress"
PAYOUT_UPDATED = "payout.updated"
REFUND_UPDATED = "refund.updated"
MESSAGE_CREATED = "message.created"
CONVERSATION_READ = "conversation.read"
# Not kept for recovery: a typing indicator is only worth showing while it happens.
CONVERSATION_TYPING = "conversation.typing"

MESSAGE_TYPES = frozenset(
    {BOOKING_UPDATED, PAYMENT_UPDATED, TICKET_ISSUED, CHECKIN_STATS, NOTIFICATION_CREATED, BROADCAST_PROGRESS, PAYOUT_UPDATED, REFUND_UPDATED, MESSAGE_CREATED, CONVERSATION_READ, CONVERSATION_TYPING}
)
