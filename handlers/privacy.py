"""The signed-in person's data: deleting the account, exporting everything held about them, marketing consent."""

from aiohttp import web
from pydantic import Field

from documents.marketing_consent import MarketingConsent
from documents.privacy_request import PrivacyRequest, RequestKind
from gateway.accounts.context import signed_in_user
from gateway.accounts.step_up import confirm_identity
from gateway.http_access import AUTHENTICATED
from gateway.privacy import consent, deletion, export
from gateway.privacy.problems import NoDeletionScheduled
from gateway.privacy.views import DownloadLink, MarketingConsentView, PrivacyRequestList, PrivacyRequestView
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES
from handlers.auth_inputs import BackupCode, OtpCode, PasswordText

routes = ApiRoutes(tag="privacy")


class DeletionRequest(RequestModel):
    password: PasswordText
    code: OtpCode | None = Field(None, description="a TOTP code, when two-factor is on")
    backup_code: BackupCode | None = Field(None, description="or a backup code, when two-factor is on")


class ExportRequest(RequestModel):
    password: PasswordText | None = Field(
        None, description="needed unless the session signed in within auth.recent_sign_in_s"
    )


class MarketingChoice(RequestModel):
    granted: bool
    wording_version: str = Field(min_length=1, max_length=40, description="the version of the opt-in text shown")


@routes.post(
    "/v1/me/deletion",
    body=DeletionRequest,
    response=PrivacyRequestView,
    access=AUTHENTICATED,
    status=202,
    problems=(401, 403, 409, 429),
    summary="Delete my account after the grace period",
    description="Needs the password, and a TOTP or backup code when two-factor is on. Refused with `deletion-blocked` "
    "(409, `reasons` listing codes: booking_active, order_held, payment_pending, refund_owed, earnings_owed, money_owed, "
    "payout_pending) while business is open. The account is erased privacy.deletion_grace_d days later; signing in or "
    "DELETE /v1/me/deletion before then cancels. Asking again answers the deletion already scheduled.",
)
async def request_deletion(request: web.Request, caller: Caller, body: DeletionRequest) -> PrivacyRequestView:
    scheduled = await deletion.request_own_deletion(
        request.app[SERVICES], await signed_in_user(caller), password=body.password, code=body.code,
        backup_code=body.backup_code,
    )  # fmt: skip
    return PrivacyRequestView.of(scheduled)


@routes.get("/v1/me/deletion", response=PrivacyRequestView, access=AUTHENTICATED, problems=(404,),
            summary="The deletion of my account waiting to run")  # fmt: skip
async def show_deletion(request: web.Request, caller: Caller) -> PrivacyRequestView:
    scheduled = await PrivacyRequest.open_deletion_of(caller.user_id)
    if scheduled is None:
        raise NoDeletionScheduled()
    return PrivacyRequestView.of(scheduled)


@routes.delete("/v1/me/deletion", access=AUTHENTICATED, status=204, problems=(404,),
               summary="Keep my account: cancel its deletion")  # fmt: skip
async def cancel_deletion(request: web.Request, caller: Caller) -> None:
    await deletion.cancel_deletion(request.app[SERVICES], caller.user_id, by="user")


@routes.post(
    "/v1/me/exports",
    body=ExportRequest,
    body_required=False,
    response=PrivacyRequestView,
    access=AUTHENTICATED,
    status=202,
    problems=(403, 429),
    summary="Ask for a copy of all my data",
    description="A job builds a zip (data.json with every kind of data held, and the uploaded files) and a "
    "`privacy_notice` notification says when it is ready. Limited by rate_limits.data_exports_per_account.",
)
async def request_export(request: web.Request, caller: Caller, body: ExportRequest) -> PrivacyRequestView:
    services = request.app[SERVICES]
    await confirm_identity(services, caller, await signed_in_user(caller), body.password)
    return PrivacyRequestView.of(await export.request_export(services, caller.user_id))


@routes.get(
    "/v1/me/exports", response=PrivacyRequestList, access=AUTHENTICATED, summary="My data exports, newest first"
)
async def list_exports(request: web.Request, caller: Caller) -> PrivacyRequestList:
    found = await PrivacyRequest.of_user(caller.user_id, RequestKind.EXPORT)
    return PrivacyRequestList(items=[PrivacyRequestView.of(item) for item in found])


@routes.get(
    "/v1/me/exports/{export_id}/download",
    response=DownloadLink,
    access=AUTHENTICATED,
    problems=(404, 409),
    summary="A signed link to download my export",
    description="Each link lives privacy.download_link_ttl_s; ask again for a new one until the export expires.",
)
async def download_export(request: web.Request, caller: Caller) -> DownloadLink:
    found = await export.export_of(caller.user_id, request.match_info["export_id"])
    return await export.download_link(request.app[SERVICES], found)


@routes.get("/v1/me/marketing", response=MarketingConsentView, access=AUTHENTICATED,
            summary="Whether I agreed to marketing messages")  # fmt: skip
async def show_marketing_consent(request: web.Request, caller: Caller) -> MarketingConsentView:
    current = request.app[SERVICES].settings.privacy.marketing_wording_version
    return MarketingConsentView.of(await MarketingConsent.of(caller.user_id), current)


@routes.put(
    "/v1/me/marketing",
    body=MarketingChoice,
    response=MarketingConsentView,
    access=AUTHENTICATED,
    problems=(409,),
    summary="Opt in to or out of marketing messages",
    description="An opt-in names the wording version shown (`consent-wording-outdated`, 409, for any but the current); "
    "its time and version are kept. Receipts, booking and security messages are sent whatever is chosen here.",
)
async def set_marketing_consent(request: web.Request, caller: Caller, body: MarketingChoice) -> MarketingConsentView:
    services = request.app[SERVICES]
    recorded = await consent.record_marketing_choice(
        services, caller.user_id, granted=body.granted, wording_version=body.wording_version
    )
    return MarketingConsentView.of(recorded, services.settings.privacy.marketing_wording_version)
