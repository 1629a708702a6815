"""What the notification channels share: the receipt of a send and log-safe views of recipients."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

MessageKind = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
"""What a message is for (`otp`, `booking_receipt`…): kept in the outbox, sent to vendors as a tag."""


class SendReceipt(BaseModel):
    """Proof that a vendor (or the outbox) accepted a message, with the id it gave it."""

    model_config = ConfigDict(frozen=True)

    provider: str
    message_id: str


def mask_phone(phone: str) -> str:
    """+254712345612 -> +2547******12: enough to tell numbers apart in logs, not to dial them."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:5] + "*" * (len(phone) - 7) + phone[-2:]


def mask_email(address: str) -> str:
    """jane.doe@example.com -> j*******@example.com."""
    local, separator, domain = address.partition("@")
    if not separator:
        return "*" * len(address)
    return local[:1] + "*" * max(len(local) - 1, 1) + "@" + domain
