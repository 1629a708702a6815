"""How people name their account: a lower-cased email, or a phone number normalised to E.164."""

from typing import Annotated

import phonenumbers
from pydantic import AfterValidator

from providers.email import EmailAddress

# Numbers without a country code are read as Kenyan: 0712…, 0112…, 712…, 254712… all become +254712….
DEFAULT_REGION = "KE"


def normalise_phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


PhoneNumber = Annotated[str, AfterValidator(normalise_phone)]
Email = Annotated[EmailAddress, AfterValidator(str.lower)]
