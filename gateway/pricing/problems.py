"""The problem a stay the listing's rules refuse answers with."""

from gateway.problems import ValidationFailed


class StayNotAllowed(ValidationFailed):
    slug, title = "stay-not-allowed", "These dates or guests cannot be booked"
