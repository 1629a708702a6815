"""A host's or agent's payout phone: asked for with a one-time code by SMS, saved once the code comes back."""

from typing import Annotated

from beanie import PydanticObjectId
from pydantic import BaseModel, Field

from documents.otp import CodePurpose
from documents.payout_destination import PayoutDestination
from documents.user import User
from gateway.accounts.codes import issue_and_send, spend_code, spend_send_budget
from gateway.accounts.problems import OtpCooldown
from gateway.logs import get_logger
from gateway.payments.problems import PaymentDetailsInvalid
from gateway.payouts.views import masked_phone
from gateway.problems import NotFound
from gateway.request_models import RequestModel
from gateway.security.callers import Caller
from gateway.services import Services
from providers.errors import VendorRejected
from providers.payments import normalise_msisdn

log = get_logger("lango.payouts")


class DestinationRequest(RequestModel):
    phone: Annotated[str, Field(max_length=20, description="the M-Pesa number to be paid on, in any usual Kenyan spelling")]


class DestinationCode(RequestModel):
    code: Annotated[str, Field(pattern=r"^\d{6}$", description="the code sent by SMS to the new payout phone")]


class DestinationView(BaseModel):
    method: str
    phone: str = Field(description="the M-Pesa number, masked but for its last three digits")
    confirmed_at: str

    @classmethod
    def of(cls, destination: PayoutDestination) -> "DestinationView":
        return cls(method=destination.method, phone=masked_phone(destination.phone), confirmed_at=destination.confirmed_at.isoformat())


def _msisdn(phone: str) -> str:
    try:
        return normalise_msisdn(phone)
    except VendorRejected as error:
        raise PaymentDetailsInvalid(errors=[{"field": "body.phone", "message": str(error), "code": "mpesa_phone"}]) from None


async def _user(caller: Caller) -> User:
    user = await User.get(PydanticObjectId(caller.user_id))
    if user is None:
        raise NotFound("no such account")
    return user


async def request_destination(services: Services, caller: Caller, phone: str, client_address: str | None) -> None:
    """Send a code to the phone the caller wants payouts on; nothing changes until the code comes back."""
    msisdn = _msisdn(phone)
    await services.limits.hit("payout_destination_requests_per_user", caller.user_id)
    destination = f"+{msisdn}"
    await spend_send_budget(services, destination, client_address)
    cooldown_s = services.settings.auth.otp_resend_cooldown_s
    if not await issue_and_send(services, await _user(caller), CodePurpose.VERIFY_PAYOUT_PHONE, destination, cooldown_s):
        raise OtpCooldown(cooldown_s)


async def confirm_destination(services: Services, caller: Caller, code: str) -> PayoutDestination:
    """The code came back: payouts go to the phone it was sent to from now on."""
    destination = await spend_code(services, PydanticObjectId(caller.user_id), CodePurpose.VERIFY_PAYOUT_PHONE, code)
    confirmed = await PayoutDestination.confirm(caller.user_id, destination.removeprefix("+"), services.clock())
    log.info("payout destination confirmed", user_id=caller.user_id)
    return confirmed
