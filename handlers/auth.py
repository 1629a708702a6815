"""Sign-up, sign-in and tokens under /v1/auth, and the public keys at /.well-known/jwks.json."""

from aiohttp import web
from pydantic import Field, model_validator

from documents.notification import NotificationKind
from gateway.accounts import sessions, signin
from gateway.accounts import signup as signup_flow
from gateway.accounts.context import signed_in_user
from gateway.accounts.identifiers import Email, PhoneNumber
from gateway.accounts.views import AccountView, JsonWebKeySet, SignedIn, SignInResult, TokenPairView
from gateway.analytics import ProductEvent, track
from gateway.http_access import AUTHENTICATED
from gateway.notifications.dispatch import notify
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES
from handlers.auth_inputs import BackupCode, DeviceName, DeviceToken, Identified, OtpCode, PasswordText, device_of

routes = ApiRoutes(tag="auth")


class SignUp(RequestModel):
    email: Email | None = None
    phone: PhoneNumber | None = Field(None, description="E.164, or a Kenyan number: 07…, 01…, 254…, +254…")
    password: PasswordText

    @model_validator(mode="after")
    def _reachable(self) -> "SignUp":
        if self.email is None and self.phone is None:
            raise ValueError("give an email, a phone, or both")
        return self


class SignUpConfirmation(RequestModel):
    email: Email | None = Field(None, description="The email given at sign-up, if one was")
    phone: PhoneNumber | None = Field(None, description="The phone given at sign-up, if one was")
    email_code: OtpCode | None = Field(None, description="The code sent to the email; required when an email was given")
    phone_code: OtpCode | None = Field(None, description="The code sent by SMS; required when a phone was given")
    device: DeviceName | None = Field(None, description="Shown in the session list; the User-Agent when absent")

    @model_validator(mode="after")
    def _codes_for_contact_points(self) -> "SignUpConfirmation":
        if self.email is None and self.phone is None:
            raise ValueError("give the email, the phone, or both, as at sign-up")
        if (self.email is None) != (self.email_code is None) or (self.phone is None) != (self.phone_code is None):
            raise ValueError("give email_code with the email and phone_code with the phone, and no other code")
        return self


class SignIn(Identified):
    password: PasswordText
    device: DeviceName | None = None
    device_token: DeviceToken | None = Field(
        None, description="The device token an earlier sign-in of this account answered on this device, if any"
    )


class SecondFactor(RequestModel):
    mfa_token: str = Field(min_length=1)
    code: OtpCode | None = None
    backup_code: BackupCode | None = None
    device: DeviceName | None = None

    @model_validator(mode="after")
    def _one_factor(self) -> "SecondFactor":
        if (self.code is None) == (self.backup_code is None):
            raise ValueError("give exactly one of code or backup_code")
        return self


class Refresh(RequestModel):
    refresh_token: str = Field(min_length=1, max_length=200)
    device: DeviceName | None = None


@routes.get("/.well-known/jwks.json", response=JsonWebKeySet, summary="Public keys that verify access tokens (JWKS)")
async def jwks(request: web.Request) -> JsonWebKeySet:
    return JsonWebKeySet.model_validate(request.app[SERVICES].tokens.jwks())


@routes.post(
    "/v1/auth/signup",
    body=SignUp,
    status=202,
    problems=(409, 422, 429),
    summary="Start an account: a code goes to each email and phone given",
    description="Answers 202 alike for every address, so it never tells whether an address already has an account: "
    "a code goes to each new email and phone, while the owner of one that already has an account is told instead "
    "that someone tried to sign up with it. Confirm with POST /v1/auth/signup/confirm within auth.otp_ttl_s. A new "
    "sign-up for the same email or phone replaces the one waiting. Limited per client address and overall "
    "(rate_limits.signups_per_address, signups_overall), and each code counts against the destination's, the "
    "address's and, for SMS, the deployment's budget (otp_sends_per_destination, sms_per_address, sms_overall).",
)
async def signup(request: web.Request, body: SignUp) -> None:
    await signup_flow.request_signup(
        request.app[SERVICES],
        request.app[SERVICES].queue,
        email=body.email,
        phone=body.phone,
        password=body.password,
        client_address=request.remote,
    )


@routes.post(
    "/v1/auth/signup/confirm",
    body=SignUpConfirmation,
    response=SignedIn,
    status=201,
    problems=(400, 410, 422),
    summary="Create the account with the codes the sign-up sent, and sign this device in",
    description="Give the email and phone exactly as at sign-up, with the code sent to each. A wrong code is "
    "`otp-invalid`; after auth.otp_max_attempts tries, or once the codes expired, the sign-up is dead "
    "(`otp-expired`): sign up again. The new account's contact points are verified.",
)
async def confirm_signup(request: web.Request, body: SignUpConfirmation) -> SignedIn:
    user, pair, device_token = await signup_flow.confirm_signup(
        request.app[SERVICES],
        email=body.email,
        phone=body.phone,
        email_code=body.email_code,
        phone_code=body.phone_code,
        device=device_of(request, body.device),
    )
    method = {"method": "email" if body.email else "phone"}
    await track(request.app[SERVICES], ProductEvent.SIGNUP, str(user.id), method, occurrence=str(user.id))
    await notify(request.app[SERVICES], str(user.id), NotificationKind.WELCOME, {}, dedupe_key=f"welcome:{user.id}")
    return SignedIn(account=AccountView.of(user), tokens=TokenPairView.of(pair), device_token=device_token)


@routes.post(
    "/v1/auth/login",
    body=SignIn,
    response=SignInResult,
    problems=(401, 429),
    summary="Sign in with email or phone and password",
    description="Accounts with two-factor on answer `mfa_required`; accounts whose role needs it but have it off "
    "answer `mfa_enrolment_required`. A completed sign-in answers a `device_token`: send it back with later "
    "sign-ins from this device. Every attempt counts before the password is checked: against its device when it "
    "brings this account's device token (rate_limits.login_failures_per_device), else against the account "
    "(login_failures_per_account), and against the client address (login_attempts_per_address). A full window "
    "answers 429 `account-locked` (with Retry-After) whatever the password, and alike whether or not the account "
    "exists; the account's lock stops unknown devices only, so a known device still signs in while someone else "
    "guesses. A success clears its window.",
)
async def login(request: web.Request, body: SignIn) -> SignInResult:
    outcome = await signin.sign_in(
        request.app[SERVICES],
        email=body.email,
        phone=body.phone,
        password=body.password,
        device=device_of(request, body.device),
        device_token=body.device_token,
    )
    return SignInResult(
        status=outcome.status,
        tokens=TokenPairView.of(outcome.tokens) if outcome.tokens else None,
        mfa_token=outcome.challenge if outcome.status == "mfa_required" else None,
        enrolment_token=outcome.challenge if outcome.status == "mfa_enrolment_required" else None,
        account=AccountView.of(outcome.user) if outcome.status == "signed_in" and outcome.user else None,
        device_token=outcome.device_token,
    )


@routes.post(
    "/v1/auth/login/mfa",
    body=SecondFactor,
    response=SignedIn,
    problems=(401, 429),
    summary="Second sign-in step: a TOTP code or a backup code",
)
async def login_second_factor(request: web.Request, body: SecondFactor) -> SignedIn:
    user, pair, device_token = await signin.complete_mfa(
        request.app[SERVICES],
        mfa_token=body.mfa_token,
        code=body.code,
        backup_code=body.backup_code,
        device=device_of(request, body.device),
    )
    return SignedIn(account=AccountView.of(user), tokens=TokenPairView.of(pair), device_token=device_token)


@routes.post(
    "/v1/auth/refresh",
    body=Refresh,
    response=TokenPairView,
    problems=(401, 403),
    summary="Trade the refresh token for a new token pair",
    description="Refresh tokens are single use. Presenting one already used signs that session out "
    "(`refresh-token-reused`): someone else may hold a copy.",
)
async def refresh(request: web.Request, body: Refresh) -> TokenPairView:
    pair = await sessions.refresh_session(request.app[SERVICES], body.refresh_token, device_of(request, body.device))
    return TokenPairView.of(pair)


@routes.post(
    "/v1/auth/logout", access=AUTHENTICATED, status=204, problems=(404,), summary="Sign this session out"
)
async def logout(request: web.Request, caller: Caller) -> None:
    await sessions.revoke_session(request.app[SERVICES], caller.user_id, caller.session_id, because="signed_out")


@routes.get("/v1/auth/me", response=AccountView, access=AUTHENTICATED, summary="The signed-in account")
async def me(request: web.Request, caller: Caller) -> AccountView:
    return AccountView.of(await signed_in_user(caller))
