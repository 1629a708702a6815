"""The SMS channel's contract: what a text message is and what every SMS adapter must do."""

from typing import Annotated, Protocol

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from providers.delivery import MessageKind, SendReceipt


def _check_e164(value: str) -> str:
    if not value.startswith("+"):
        raise ValueError("phone number must be in E.164 form, starting with +")
    try:
        number = phonenumbers.parse(value)
    except phonenumbers.NumberParseException as error:
        raise ValueError(f"not a phone number: {error}") from error
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


PhoneE164 = Annotated[str, AfterValidator(_check_e164)]
"""A phone number normalised to E.164 (+254712345678)."""


class SmsMessage(BaseModel):
    """One text message to one phone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: PhoneE164
    # 1600 characters is Twilio's ceiling for a concatenated message and above what AT splits.
    text: Annotated[str, StringConstraints(min_length=1, max_length=1600)]
    kind: MessageKind


class SmsSender(Protocol):
    """Sends one text message and answers with the vendor's id for it, or raises a ProviderError."""

    name: str

    async def send(self, message: SmsMessage) -> SendReceipt: ...
