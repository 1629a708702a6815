"""The signed-in account's own business: its sessions, its password, verifying its email and phone."""

from typing import Literal

from aiohttp import web
from beanie import PydanticObjectId
from pydantic import Field

from documents.session import Session
from gateway.accounts import codes, sessions
from gateway.accounts.context import signed_in_user
from gateway.accounts.views import PasswordResetDone, SessionList, SessionView
from gateway.http_access import AUTHENTICATED
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES
from handlers.auth_inputs import Identified, OtpCode, PasswordText

routes = ApiRoutes(tag="auth")


class PasswordChange(RequestModel):
    current_password: PasswordText
    new_password: PasswordText


class CodeRequest(RequestModel):
    channel: Literal["email", "sms"] = Field(description="email verifies the email, sms the phone")


class CodeCheck(RequestModel):
    channel: Literal["email", "sms"]
    code: OtpCode


class PasswordReset(Identified):
    code: OtpCode
    new_password: PasswordText


@routes.get("/v1/auth/sessions", response=SessionList, access=AUTHENTICATED, summary="My signed-in devices")
async def list_sessions(request: web.Request, caller: Caller) -> SessionList:
    open_sessions = await Session.open_sessions_of(PydanticObjectId(caller.user_id))
    return SessionList(items=[SessionView.of(session, caller.session_id) for session in open_sessions])


@routes.delete(
    "/v1/auth/sessions/{session_id}", access=AUTHENTICATED, status=204, summary="Sign one of my devices out"
)
async def revoke_session(request: web.Request, caller: Caller) -> None:
    await sessions.revoke_session(
        request.app[SERVICES], caller.user_id, request.match_info["session_id"], because="revoked_by_user"
    )


@routes.post(
    "/v1/auth/password/change",
    body=PasswordChange,
    access=AUTHENTICATED,
    status=204,
    problems=(429,),
    summary="Change my password; every other session is signed out",
)
async def change_password(request: web.Request, caller: Caller, body: PasswordChange) -> None:
    await codes.change_password(
        request.app[SERVICES],
        await signed_in_user(caller),
        current_password=body.current_password,
        new_password=body.new_password,
        session_id=caller.session_id,
        client_address=request.remote,
    )


@routes.post(
    "/v1/auth/otp/send",
    body=CodeRequest,
    access=AUTHENTICATED,
    status=202,
    problems=(409, 429),
    summary="Send a 6-digit code to verify my email or phone",
    description="Limited per destination (rate_limits.otp_sends_per_destination) and, by SMS, per client address and "
    "overall (sms_per_address, sms_overall); a new code waits auth.otp_resend_cooldown_s (`otp-cooldown`).",
)
async def send_verification_code(request: web.Request, caller: Caller, body: CodeRequest) -> None:
    await codes.send_verification(request.app[SERVICES], await signed_in_user(caller), body.channel, request.remote)


@routes.post(
    "/v1/auth/otp/verify",
    body=CodeCheck,
    access=AUTHENTICATED,
    status=204,
    problems=(410, 429),
    summary="Verify my email or phone with the code sent to it",
    description="5 wrong tries kill a code (`otp-expired`); ask for a new one. Checks are limited per account "
    "(rate_limits.verification_code_checks_per_account), apart from the password-reset and two-factor budgets.",
)
async def verify_code(request: web.Request, caller: Caller, body: CodeCheck) -> None:
    await codes.verify_contact(request.app[SERVICES], await signed_in_user(caller), body.channel, body.code)


@routes.post(
    "/v1/auth/password/reset",
    body=Identified,
    status=202,
    problems=(429,),
    summary="Send a password reset code to the email or phone of an account",
    description="Answers 202 whether or not such an account exists, after the same work either way: the code is "
    "sent by a background job that looks the account up. Limited per destination (rate_limits.otp_sends_per_destination) "
    "and, by SMS, per client address and overall (sms_per_address, sms_overall).",
)
async def request_password_reset(request: web.Request, body: Identified) -> None:
    await codes.request_password_reset(
        request.app[SERVICES], request.app[SERVICES].queue, email=body.email, phone=body.phone, client_address=request.remote
    )


@routes.post(
    "/v1/auth/password/reset/confirm",
    body=PasswordReset,
    response=PasswordResetDone,
    problems=(400, 422, 429),
    summary="Set a new password with a reset code; every session is signed out",
    description="A wrong, expired or used-up code is `otp-invalid` (400) alike whether or not the account exists; "
    "checks are limited per account (rate_limits.reset_code_checks_per_account). Clears the account's lock from "
    "failed sign-ins, and answers a device token, so this device can sign in even while someone keeps guessing.",
)
async def reset_password(request: web.Request, body: PasswordReset) -> PasswordResetDone:
    device_token = await codes.reset_password(
        request.app[SERVICES],
        email=body.email,
        phone=body.phone,
        code=body.code,
        new_password=body.new_password,
        client_address=request.remote,
    )
    return PasswordResetDone(device_token=device_token)
