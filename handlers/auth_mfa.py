"""Two-factor authentication of the signed-in account: enrol with a TOTP app, confirm, turn off."""

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from gateway.accounts import two_factor
from gateway.accounts.context import Accounts, Device, signed_in_user
from gateway.accounts.sessions import open_session
from gateway.routing import ApiRoutes, RequestModel
from gateway.security.access import AUTHENTICATED, MFA_ENROLMENT, Caller
from handlers.auth_views import BackupCode, OtpCode, PasswordText, TokenPairView

routes = ApiRoutes(tag="auth")

class EnrolmentView(BaseModel):
    secret: str = Field(description="Base32, for apps that cannot scan the QR code")
    otpauth_uri: str
    qr_png: str = Field(description="The otpauth URI as a QR code: a data:image/png;base64 URL")


class EnrolmentConfirmation(RequestModel):
    code: OtpCode


class EnrolmentConfirmed(BaseModel):
    backup_codes: list[str] = Field(description="10 single-use codes for when the phone is lost; shown only now")
    tokens: TokenPairView | None = Field(None, description="Present when enrolling with an MFA-enrolment token: the sign-in completes")


class Disable(RequestModel):
    password: PasswordText
    code: OtpCode | None = None
    backup_code: BackupCode | None = None

    @model_validator(mode="after")
    def _one_factor(self) -> "Disable":
        if (self.code is None) == (self.backup_code is None):
            raise ValueError("give exactly one of code or backup_code")
        return self


@routes.post(
    "/v1/auth/2fa/enrol",
    access=MFA_ENROLMENT,
    response=EnrolmentView,
    problems=(409,),
    summary="Start two-factor enrolment: a TOTP secret as otpauth:// URI and QR code",
)
async def enrol(request: web.Request, caller: Caller) -> EnrolmentView:
    enrolment = await two_factor.begin_enrolment(Accounts.of(request.app), await signed_in_user(caller))
    return EnrolmentView(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri, qr_png=enrolment.qr_png_data_url)


@routes.post(
    "/v1/auth/2fa/confirm",
    access=MFA_ENROLMENT,
    body=EnrolmentConfirmation,
    response=EnrolmentConfirmed,
    problems=(409, 429),
    summary="Turn two-factor on with the first code from the authenticator app",
)
async def confirm(request: web.Request, caller: Caller, body: EnrolmentConfirmation) -> EnrolmentConfirmed:
    accounts = Accounts.of(request.app)
    user = await signed_in_user(caller)
    backup_codes = await two_factor.confirm_enrolment(accounts, user, body.code)
    if caller.has_session:
        return EnrolmentConfirmed(backup_codes=backup_codes)
    pair = await open_session(accounts, user, Device.of(request))
    return EnrolmentConfirmed(backup_codes=backup_codes, tokens=TokenPairView.of(pair))


@routes.post(
    "/v1/auth/2fa/disable",
    access=AUTHENTICATED,
    body=Disable,
    status=204,
    problems=(409, 429),
    summary="Turn two-factor off with the password and a code",
    description="Refused (`mfa-required-for-role`) for accounts whose role needs two-factor.",
)
async def disable(request: web.Request, caller: Caller, body: Disable) -> None:
    await two_factor.disable(
        Accounts.of(request.app), await signed_in_user(caller), password=body.password, code=body.code, backup_code=body.backup_code
    )
