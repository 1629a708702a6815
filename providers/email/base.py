"""The email channel's contract: what a message is and what every email adapter must do."""

import re
from email.utils import parseaddr
from typing import Annotated, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from providers.delivery import MessageKind, SendReceipt

_ADDRESS = re.compile(r"[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\]+")


def _check_address(value: str) -> str:
    if len(value) > 254 or not _ADDRESS.fullmatch(value):
        raise ValueError("not a single plain email address")
    return value


EmailAddress = Annotated[str, AfterValidator(_check_address)]
"""A bare address (no display name); the strictest form every vendor and SMTP accept."""


def _check_sender(value: str) -> str:
    display_name, address = parseaddr(value)
    _check_address(address)
    return value


SenderAddress = Annotated[str, AfterValidator(_check_sender)]
"""The From of a deployment, with or without a display name: `Lango <hello@lango.africa>`."""

# The intersection of what Resend (tags) and SendGrid (custom_args) accept.
TagText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,256}$")]


class EmailMessage(BaseModel):
    """One transactional email to one person; `text` is always sent, `html` when given."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: EmailAddress
    subject: Annotated[str, StringConstraints(min_length=1, max_length=998, pattern=r"^[^\r\n]*$")]
    text: Annotated[str, StringConstraints(min_length=1)]
    html: Annotated[str, StringConstraints(min_length=1)] | None = None
    kind: MessageKind
    tags: dict[TagText, TagText] = Field(default_factory=dict, max_length=10)


class EmailSender(Protocol):
    """Sends one email and answers with the vendor's id for it, or raises a ProviderError."""

    name: str

    async def send(self, message: EmailMessage) -> SendReceipt: ...
