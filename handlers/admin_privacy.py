"""Admins acting on data subjects' requests made outside the app: deleting or exporting an account, each audited."""

from typing import Any

from aiohttp import web
from beanie import PydanticObjectId
from pydantic import Field

from documents.audit import AuditEvent, AuditKind
from documents.privacy_request import PrivacyRequest, RequestKind, RequestStatus
from gateway.http_access import roles
from gateway.paging import newest_first
from gateway.privacy import deletion, export
from gateway.privacy.views import AdminPrivacyRequestPage, AdminPrivacyRequestView, DownloadLink
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="admin")
ADMINS = roles("admin")
USER_ID = r"^[0-9a-f]{24}$"


class RequestQuery(RequestModel):
    kind: RequestKind | None = None
    status: RequestStatus | None = None
    user_id: str | None = Field(None, pattern=USER_ID)
    cursor: str | None = Field(None, description="`next_cursor` of the previous page")
    limit: int = Field(50, ge=1, le=200)


class SubjectRequest(RequestModel):
    reason: str = Field(min_length=10, max_length=500, description="the request's reference and how the person's "
                        "identity was checked: kept with the request and in the audit log")  # fmt: skip


class AdminDeletion(SubjectRequest):
    skip_grace: bool = Field(False, description="erase at the next run instead of after privacy.deletion_grace_d")


@routes.get("/v1/admin/privacy-requests", query=RequestQuery, response=AdminPrivacyRequestPage, access=ADMINS,
            problems=(400,), summary="Deletion and export requests, newest first")  # fmt: skip
async def list_requests(request: web.Request, caller: Caller, query: RequestQuery) -> AdminPrivacyRequestPage:
    scope: dict[str, Any] = {}
    if query.kind is not None:
        scope["kind"] = query.kind.value
    if query.status is not None:
        scope["status"] = query.status.value
    if query.user_id is not None:
        scope["user_id"] = query.user_id
    found, next_cursor = await newest_first(PrivacyRequest, scope, query.cursor, query.limit)
    return AdminPrivacyRequestPage(items=[AdminPrivacyRequestView.of(item) for item in found], next_cursor=next_cursor)


@routes.post(
    "/v1/admin/users/{user_id}/deletion",
    body=AdminDeletion,
    response=AdminPrivacyRequestView,
    access=ADMINS,
    status=202,
    problems=(404, 409),
    summary="Delete an account on its owner's request",
    description="Refused like the owner's own request (`deletion-blocked`, 409) while business is open.",
)
async def delete_account(request: web.Request, caller: Caller, body: AdminDeletion) -> AdminPrivacyRequestView:
    scheduled = await deletion.request_deletion_for(
        request.app[SERVICES], caller, request.match_info["user_id"], reason=body.reason, grace=not body.skip_grace
    )
    return AdminPrivacyRequestView.of(scheduled)


@routes.delete("/v1/admin/users/{user_id}/deletion", access=ADMINS, status=204, problems=(404,),
               summary="Cancel an account's deletion while it waits")  # fmt: skip
async def cancel_account_deletion(request: web.Request, caller: Caller) -> None:
    await deletion.cancel_deletion(request.app[SERVICES], request.match_info["user_id"], by="admin", admin=caller)


@routes.post("/v1/admin/users/{user_id}/exports", body=SubjectRequest, response=AdminPrivacyRequestView, access=ADMINS,
             status=202, problems=(404,), summary="Export an account's data on its owner's request")  # fmt: skip
async def export_account(request: web.Request, caller: Caller, body: SubjectRequest) -> AdminPrivacyRequestView:
    made = await export.request_export(
        request.app[SERVICES], request.match_info["user_id"], admin_id=caller.user_id, reason=body.reason
    )
    return AdminPrivacyRequestView.of(made)


@routes.get("/v1/admin/privacy-requests/{request_id}/download", response=DownloadLink, access=ADMINS, problems=(404, 409),
            summary="A signed link to an export's archive (audited)")  # fmt: skip
async def download_account_export(request: web.Request, caller: Caller) -> DownloadLink:
    services = request.app[SERVICES]
    found = await export.export_of(None, request.match_info["request_id"])
    link = await export.download_link(services, found)
    await AuditEvent.record(AuditKind.DATA_EXPORT_DOWNLOADED, user_id=PydanticObjectId(found.user_id),
                            actor_id=PydanticObjectId(caller.user_id), request_id=str(found.id))  # fmt: skip
    return link
