"""Profile routes: one's own profile and contact points, others' public profiles, applying to host and deciding it."""

from typing import Annotated

from aiohttp import web
from pydantic import Field, StringConstraints, model_validator

from documents.host_application import ApplicationStatus
from documents.user import ContactChannel
from gateway.accounts.context import signed_in_user
from gateway.accounts.identifiers import Email, PhoneNumber
from gateway.http_access import AUTHENTICATED, roles
from gateway.input_types import ProseText
from gateway.profiles.contact_change import confirm_contact_change, start_contact_change
from gateway.profiles.editing import FileId, ProfileChanges, my_profile, public_profile, update_profile
from gateway.profiles.host_applications import (
    applications_of,
    applications_with,
    decide_application,
    submit_application,
    withdraw_application,
)
from gateway.profiles.views import HostApplicationPage, HostApplicationView, MyProfile, PublicProfile
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES
from handlers.auth_inputs import OtpCode, PasswordText

routes = ApiRoutes(tag="profiles")
ADMINS = roles("admin")
Cursor = Annotated[str, Field(pattern=r"^[0-9a-f]{24}$", description="`next_cursor` of the previous page")]


class ContactChange(RequestModel):
    """Exactly one of a new email or a new phone, and the account's current password."""

    email: Email | None = None
    phone: PhoneNumber | None = Field(None, description="E.164, or a Kenyan number: 07…, 01…, 254…, +254…")
    current_password: PasswordText

    @model_validator(mode="after")
    def _exactly_one(self) -> "ContactChange":
        if (self.email is None) == (self.phone is None):
            raise ValueError("give exactly one of email or phone")
        return self

    @property
    def channel(self) -> ContactChannel:
        return "email" if self.email is not None else "sms"


class ContactCode(RequestModel):
    channel: ContactChannel = Field(description="email for a new email, sms for a new phone")
    code: OtpCode


class Application(RequestModel):
    identity_document_id: FileId = Field(description="a confirmed file of kind document (an ID card or passport scan)")


class Refusal(RequestModel):
    reason: Annotated[ProseText, StringConstraints(min_length=3, max_length=500)] = Field(
        description="told to the applicant"
    )


class ApplicationsQuery(RequestModel):
    status: ApplicationStatus | None = None
    cursor: Cursor | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class MyApplicationsQuery(RequestModel):
    cursor: Cursor | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


@routes.get("/v1/me/profile", response=MyProfile, access=AUTHENTICATED, summary="My profile, with my contact points")
async def get_my_profile(request: web.Request, caller: Caller) -> MyProfile:
    return await my_profile(request.app[SERVICES], caller, await signed_in_user(caller))


@routes.patch(
    "/v1/me/profile",
    body=ProfileChanges,
    response=MyProfile,
    access=AUTHENTICATED,
    problems=(404, 409, 429),
    summary="Change my display name, photo, bio or languages",
    description="The photo is a confirmed photo of the caller's own from the files API (`file-not-found`, "
    "`file-not-ready`). Limited by rate_limits.profile_changes_per_user.",
)
async def change_my_profile(request: web.Request, caller: Caller, body: ProfileChanges) -> MyProfile:
    return await update_profile(request.app[SERVICES], caller, body)


@routes.post(
    "/v1/me/contact",
    body=ContactChange,
    access=AUTHENTICATED,
    status=202,
    problems=(403, 409, 429),
    summary="Ask to change my email or phone: a code is sent to the new one",
    description="Needs the current password (`wrong-password`): whoever holds the email or phone can reset it. "
    "Nothing changes until the code comes back. Limited by rate_limits.contact_changes_per_user, the per-destination "
    "and SMS budgets, and auth.otp_resend_cooldown_s (`otp-cooldown`).",
)
async def ask_contact_change(request: web.Request, caller: Caller, body: ContactChange) -> None:
    destination = body.email or body.phone or ""
    await start_contact_change(
        request.app[SERVICES], caller, body.channel, destination, body.current_password, request.remote
    )


@routes.post(
    "/v1/me/contact/confirm",
    body=ContactCode,
    access=AUTHENTICATED,
    status=204,
    problems=(400, 409, 410, 429),
    summary="Confirm my new email or phone with the code sent to it",
    description="The new address replaces the old one, verified, and the old one gets a security alert. "
    "`contact-taken` (409) when another account took it meanwhile.",
)
async def confirm_contact(request: web.Request, caller: Caller, body: ContactCode) -> None:
    await confirm_contact_change(request.app[SERVICES], caller, body.channel, body.code, request.remote)


@routes.get(
    "/v1/users/{user_id}/profile",
    response=PublicProfile,
    access=AUTHENTICATED,
    problems=(404, 429),
    summary="A person's public profile",
    description="Name, photo thumbnails, languages, member since, badges and rating: never an email, phone or bio. "
    "Limited by rate_limits.profile_reads_per_user.",
)
async def get_public_profile(request: web.Request, caller: Caller) -> PublicProfile:
    return await public_profile(request.app[SERVICES], caller, request.match_info["user_id"])


@routes.post(
    "/v1/me/host-applications",
    body=Application,
    response=HostApplicationView,
    status=201,
    access=AUTHENTICATED,
    problems=(404, 409, 429),
    summary="Apply to host",
    description="Needs a confirmed payout phone first (`payout-phone-required`; PUT /v1/payouts/destination) and an "
    "identity document uploaded through the files API. One application awaits a decision at a time "
    "(`application-pending`); after a refusal, apply again. Once the account's erasure has begun, "
    "`account-being-erased` (409). Limited by rate_limits.host_applications_per_user.",
)
async def apply_to_host(request: web.Request, caller: Caller, body: Application) -> HostApplicationView:
    return HostApplicationView.of(await submit_application(request.app[SERVICES], caller, body.identity_document_id))


@routes.get(
    "/v1/me/host-applications",
    query=MyApplicationsQuery,
    response=HostApplicationPage,
    access=AUTHENTICATED,
    problems=(400,),
    summary="My applications to host, newest first, with each decision and its reason",
)
async def my_host_applications(request: web.Request, caller: Caller, query: MyApplicationsQuery) -> HostApplicationPage:
    found, next_cursor = await applications_of(caller.user_id, query.cursor, query.limit)
    return HostApplicationPage(items=[HostApplicationView.of(item) for item in found], next_cursor=next_cursor)


@routes.post(
    "/v1/me/host-applications/{application_id}/withdraw",
    response=HostApplicationView,
    access=AUTHENTICATED,
    problems=(409,),
    summary="Withdraw my application before it is decided",
)
async def withdraw_host_application(request: web.Request, caller: Caller) -> HostApplicationView:
    return HostApplicationView.of(await withdraw_application(caller, request.match_info["application_id"]))


@routes.get(
    "/v1/admin/host-applications",
    query=ApplicationsQuery,
    response=HostApplicationPage,
    access=ADMINS,
    problems=(400,),
    summary="Applications to host, newest first",
    description="Admins read the identity document at GET /v1/files/{identity_document_id}.",
)
async def list_host_applications(request: web.Request, caller: Caller, query: ApplicationsQuery) -> HostApplicationPage:
    found, next_cursor = await applications_with(query.status, query.cursor, query.limit)
    return HostApplicationPage(items=[HostApplicationView.of(item) for item in found], next_cursor=next_cursor)


@routes.post(
    "/v1/admin/host-applications/{application_id}/approve",
    response=HostApplicationView,
    access=ADMINS,
    problems=(409,),
    summary="Approve an application: the applicant gets the agent role and is told",
    description="Audited; the role arrives with the applicant's next access token. A second decision, or one after "
    "the applicant withdrew, is `application-decided` (409); once the applicant's account erasure has begun it is "
    "`account-being-erased` (409) and nothing is granted.",
)
async def approve_host_application(request: web.Request, caller: Caller) -> HostApplicationView:
    decided = await decide_application(
        request.app[SERVICES], caller, request.match_info["application_id"], approve=True, reason=None
    )
    return HostApplicationView.of(decided)


@routes.post(
    "/v1/admin/host-applications/{application_id}/refuse",
    body=Refusal,
    response=HostApplicationView,
    access=ADMINS,
    problems=(409,),
    summary="Refuse an application with a reason the applicant is told",
)
async def refuse_host_application(request: web.Request, caller: Caller, body: Refusal) -> HostApplicationView:
    decided = await decide_application(
        request.app[SERVICES], caller, request.match_info["application_id"], approve=False, reason=body.reason
    )
    return HostApplicationView.of(decided)
