"""Sign-up, sign-in and tokens under /v1/auth, and the public keys at /.well-known/jwks.json."""

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from documents.notification import NotificationKind
from gateway.accounts import sessions, signin
from gateway.accounts.context import Accounts, Device, signed_in_user
from gateway.accounts.identifiers import Email, PhoneNumber
from gateway.analytics import ProductEvent, track
from gateway.notifications.dispatch import notify
from gateway.routing import ApiRoutes, RequestModel
from gateway.security.access import AUTHENTICATED, Caller
from gateway.state import TOKENS
from handlers.auth_views import AccountView, BackupCode, DeviceName, Identified, OtpCode, PasswordText, TokenPairView

routes = ApiRoutes(tag="auth")


class SignUp(RequestModel):
    email: Email | None = None
    phone: PhoneNumber | None = Field(None, description="E.164, or a Kenyan number: 07…, 01…, 254…, +254…")
    password: PasswordText
    device: DeviceName | None = Field(None, description="Shown in the session list; the User-Agent when absent")

    @model_validator(mode="after")
    def _reachable(self) -> "SignUp":
        if self.email is None and self.phone is None:
            raise ValueError("give an email, a phone, or both")
        return self


class SignedUp(BaseModel):
    account: AccountView
    tokens: TokenPairView


class SignIn(Identified):
    password: PasswordText
    device: DeviceName | None = None


class SignInResult(BaseModel):
    """`signed_in` carries tokens; `mfa_required` and `mfa_enrolment_required` carry the token of the next step."""

    status: Literal["signed_in", "mfa_required", "mfa_enrolment_required"]
    tokens: TokenPairView | None = None
    mfa_token: str | None = Field(None, description="mfa_required: send it to POST /v1/auth/login/mfa with a code")
    enrolment_token: str | None = Field(
        None, description="mfa_enrolment_required: Bearer token for /v1/auth/2fa/enrol and /v1/auth/2fa/confirm only"
    )
    account: AccountView | None = None


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


class SignedIn(BaseModel):
    account: AccountView
    tokens: TokenPairView


class Refresh(RequestModel):
    refresh_token: str = Field(min_length=1, max_length=200)
    device: DeviceName | None = None


class JsonWebKeySet(BaseModel):
    keys: list[dict[str, Any]]


@routes.get("/.well-known/jwks.json", response=JsonWebKeySet, summary="Public keys that verify access tokens (JWKS)")
async def jwks(request: web.Request) -> JsonWebKeySet:
    return JsonWebKeySet.model_validate(request.app[TOKENS].jwks())


@routes.post(
    "/v1/auth/signup",
    body=SignUp,
    response=SignedUp,
    status=201,
    problems=(409, 429),
    summary="Create an account; a code goes to each email and phone given",
)
async def signup(request: web.Request, body: SignUp) -> SignedUp:
    user, pair = await signin.sign_up(
        Accounts.of(request.app), email=body.email, phone=body.phone, password=body.password, device=Device.of(request, body.device)
    )
    await track(request.app, ProductEvent.SIGNUP, str(user.id), {"method": "email" if body.email else "phone"}, occurrence=str(user.id))
    await notify(request.app, str(user.id), NotificationKind.WELCOME, {}, dedupe_key=f"welcome:{user.id}")
    return SignedUp(account=AccountView.of(user), tokens=TokenPairView.of(pair))


@routes.post(
    "/v1/auth/login",
    body=SignIn,
    response=SignInResult,
    problems=(401, 429),
    summary="Sign in with email or phone and password",
    description="Accounts with two-factor on answer `mfa_required`; accounts whose role needs it but have it off "
    "answer `mfa_enrolment_required`. Failures count per account and per address (429 with Retry-After); "
    "repeated failures lock the account for a growing period (`account-locked`).",
)
async def login(request: web.Request, body: SignIn) -> SignInResult:
    outcome = await signin.sign_in(
        Accounts.of(request.app), email=body.email, phone=body.phone, password=body.password, device=Device.of(request, body.device)
    )
    return SignInResult(
        status=outcome.status,
        tokens=TokenPairView.of(outcome.tokens) if outcome.tokens else None,
        mfa_token=outcome.challenge if outcome.status == "mfa_required" else None,
        enrolment_token=outcome.challenge if outcome.status == "mfa_enrolment_required" else None,
        account=AccountView.of(outcome.user) if outcome.status == "signed_in" and outcome.user else None,
    )


@routes.post(
    "/v1/auth/login/mfa",
    body=SecondFactor,
    response=SignedIn,
    problems=(401, 429),
    summary="Second sign-in step: a TOTP code or a backup code",
)
async def login_second_factor(request: web.Request, body: SecondFactor) -> SignedIn:
    user, pair = await signin.complete_mfa(
        Accounts.of(request.app),
        mfa_token=body.mfa_token,
        code=body.code,
        backup_code=body.backup_code,
        device=Device.of(request, body.device),
    )
    return SignedIn(account=AccountView.of(user), tokens=TokenPairView.of(pair))


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
    pair = await sessions.refresh_session(Accounts.of(request.app), body.refresh_token, Device.of(request, body.device))
    return TokenPairView.of(pair)


@routes.post(
    "/v1/auth/logout", access=AUTHENTICATED, status=204, problems=(404,), summary="Sign this session out"
)
async def logout(request: web.Request, caller: Caller) -> None:
    await sessions.revoke_session(Accounts.of(request.app), caller.user_id, caller.session_id, because="signed_out")


@routes.get("/v1/auth/me", response=AccountView, access=AUTHENTICATED, summary="The signed-in account")
async def me(request: web.Request, caller: Caller) -> AccountView:
    return AccountView.of(await signed_in_user(caller))
