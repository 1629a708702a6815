"""Guest-host conversations: opening them, sending, reading, receipts, typing, reports and admins' audited reading."""
