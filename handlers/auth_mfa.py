"""Two-factor authentication of the signed-in account: enrol with a TOTP app, confirm, turn off."""

from aiohttp import web
from pydantic import Field, model_validator

from gateway.accounts import two_factor
from gateway.accounts.context import signed_in_user
from gateway.accounts.sessions import open_session
from gateway.accounts.step_up import confirm_identity
from gateway.accounts.views import EnrolmentConfirmed, EnrolmentView, TokenPairView
from gateway.http_access import AUTHENTICATED, MFA_ENROLMENT
from gateway.notifications.security_alerts import SecurityChange, alert_owner
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES
from handlers.auth_inputs import BackupCode, OtpCode, PasswordText, device_of

routes = ApiRoutes(tag="auth")
IDENTITY_PROOF = (
    "With an access token, the password is needed unless its session signed in within `auth.recent_sign_in_s` "
    "(5 minutes): otherwise 403 `reauthentication-required`, or `wrong-password`. The MFA-enrolment token of a "
    "sign-in needs none. The account is sent a security alert."
)
PASSWORD_UNLESS_RECENT = "The account's password; needed unless this session signed in moments ago"


class EnrolmentStart(RequestModel):
    password: PasswordText | None = Field(None, description=PASSWORD_UNLESS_RECENT)


class EnrolmentConfirmation(RequestModel):
    code: OtpCode
    password: PasswordText | None = Field(None, description=PASSWORD_UNLESS_RECENT)


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
    body=EnrolmentStart,
    body_required=False,
    response=EnrolmentView,
    problems=(409, 429),
    summary="Start two-factor enrolment: a TOTP secret as otpauth:// URI and QR code",
    description=IDENTITY_PROOF,
)
async def enrol(request: web.Request, caller: Caller, body: EnrolmentStart) -> EnrolmentView:
    services = request.app[SERVICES]
    user = await signed_in_user(caller)
    await confirm_identity(services, caller, user, body.password)
    enrolment = await two_factor.begin_enrolment(services, user)
    await alert_owner(request.app[SERVICES], caller.user_id, SecurityChange.MFA_ENROLMENT_STARTED)
    return EnrolmentView(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri, qr_png=enrolment.qr_png_data_url)


@routes.post(
    "/v1/auth/2fa/confirm",
    access=MFA_ENROLMENT,
    body=EnrolmentConfirmation,
    response=EnrolmentConfirmed,
    problems=(409, 429),
    summary="Turn two-factor on with the first code from the authenticator app",
    description=IDENTITY_PROOF,
)
async def confirm(request: web.Request, caller: Caller, body: EnrolmentConfirmation) -> EnrolmentConfirmed:
    services = request.app[SERVICES]
    user = await signed_in_user(caller)
    await confirm_identity(services, caller, user, body.password)
    backup_codes = await two_factor.confirm_enrolment(services, user, body.code)
    await alert_owner(request.app[SERVICES], caller.user_id, SecurityChange.MFA_ENABLED)
    if caller.has_session:
        return EnrolmentConfirmed(backup_codes=backup_codes)
    pair = await open_session(services, user, device_of(request))
    return EnrolmentConfirmed(backup_codes=backup_codes, tokens=TokenPairView.of(pair))


@routes.post(
    "/v1/auth/2fa/disable",
    access=AUTHENTICATED,
    body=Disable,
    status=204,
    problems=(409, 429),
    summary="Turn two-factor off with the password and a code",
    description="Refused (`mfa-required-for-role`) for accounts whose role needs two-factor. The account is sent a "
    "security alert.",
)
async def disable(request: web.Request, caller: Caller, body: Disable) -> None:
    user = await signed_in_user(caller)
    services = request.app[SERVICES]
    if await two_factor.disable(services, user, password=body.password, code=body.code, backup_code=body.backup_code):
        await alert_owner(request.app[SERVICES], caller.user_id, SecurityChange.MFA_DISABLED)
