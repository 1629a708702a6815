"""A copy of everything held about a person: a job runs every registered exporter into one zip (data.json and the
person's files), stores it, and tells the person; they download it through short-lived signed links until it expires."""

import asyncio
import io
import zipfile
from datetime import timedelta
from typing import Any

import orjson
from beanie import PydanticObjectId
from bson import ObjectId

from documents.audit import AuditEvent, AuditKind
from documents.notification import NotificationKind
from documents.privacy_request import PrivacyRequest, RequestKind, RequestStatus
from documents.user import User
from gateway.jobs import JobPolicy, enqueue, job
from gateway.logs import get_logger
from gateway.notifications.dispatch import notify
from gateway.privacy.problems import ExportNotFound, ExportNotReady
from gateway.privacy.registry import DataSubject, Exported
from gateway.privacy.views import DownloadLink
from gateway.problems import NotFound
from gateway.services import Services

log = get_logger("lango.privacy")
ARCHIVE_TYPE = "application/zip"


def archive_key(request: PrivacyRequest) -> str:
    # Named by the request alone: the key itself says nothing about whose it is.
    return f"exports/{request.id}.zip"


async def request_export(
    services: Services, user_id: str, *, admin_id: str | None = None, reason: str | None = None
) -> PrivacyRequest:
    """Open an export and queue the job that builds it; limited per account (rate_limits.data_exports_per_account)."""
    if admin_id is None:
        await services.limits.hit("data_exports_per_account", user_id, refusal="an export was asked for recently")
    elif not ObjectId.is_valid(user_id) or await User.get(PydanticObjectId(user_id)) is None:
        raise NotFound("no such user")
    request = await PrivacyRequest.open_export(user_id, admin_id=admin_id, reason=reason)
    await AuditEvent.record(
        AuditKind.DATA_EXPORT_REQUESTED, user_id=PydanticObjectId(user_id),
        actor_id=PydanticObjectId(admin_id) if admin_id else None, request_id=str(request.id), reason=reason,
    )  # fmt: skip
    await enqueue(services.queue, build_data_export, key=f"privacy-export:{request.id}", request_id=str(request.id))
    return request


def _zip(records: dict[str, Any], files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", orjson.dumps(records, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        for name, data in files.items():
            archive.writestr(f"files/{name}", data)
    return buffer.getvalue()


async def collect(services: Services, subject: DataSubject) -> tuple[dict[str, Any], dict[str, bytes]]:
    """What every registered exporter holds about the person: records by kind, and files by name."""
    records: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    for kind in services.personal_data.kinds:
        if kind.export is None:
            continue
        exported: Exported = await kind.export(services, subject)
        records[kind.name] = {"purpose": kind.purpose, "records": exported.records}
        files.update({f"{kind.name}/{name}": data for name, data in exported.files.items()})
    return records, files


async def build_export(services: Services, request_id: str) -> PrivacyRequest | None:
    request = await PrivacyRequest.by_id(request_id)
    if request is None or request.status != RequestStatus.SCHEDULED:
        return request
    user = await User.get(PydanticObjectId(request.user_id))
    if user is None:
        return None
    subject = DataSubject(user_id=request.user_id, email=user.email, phone=user.phone, pseudonym="")
    records, files = await collect(services, subject)
    # Compressing is CPU work on possibly many megabytes: off the event loop.
    archive = await asyncio.to_thread(_zip, records, files)
    key = archive_key(request)
    await services.storage.put(key, archive, ARCHIVE_TYPE)
    expires_at = services.clock() + timedelta(hours=services.settings.privacy.export_kept_h)
    ready = await request.mark_ready(key, len(archive), expires_at)
    await notify(services, request.user_id, NotificationKind.PRIVACY_NOTICE, {"notice": "export_ready", "day": expires_at},
                 dedupe_key=f"privacy:{request.id}:ready", data={"export_id": str(request.id)})  # fmt: skip
    log.info("data export ready", request_id=request_id, bytes=len(archive))
    return ready


@job(JobPolicy(retries=3, retry_delay_s=30.0, timeout_s=1800))
async def build_data_export(ctx: dict[str, Any], *, request_id: str) -> None:
    await build_export(ctx["services"], request_id)


async def export_of(user_id: str | None, request_id: str) -> PrivacyRequest:
    """The export `request_id`; for a user (not an admin), only one of their own."""
    request = await PrivacyRequest.by_id(request_id)
    if request is None or request.kind != RequestKind.EXPORT or (user_id is not None and request.user_id != user_id):
        raise ExportNotFound()
    return request


async def download_link(services: Services, request: PrivacyRequest) -> DownloadLink:
    """A fresh signed link to the archive, living privacy.download_link_ttl_s."""
    if request.status != RequestStatus.READY or request.archive_key is None:
        raise ExportNotReady()
    ttl_s = services.settings.privacy.download_link_ttl_s
    return DownloadLink(
        url=await services.storage.url(request.archive_key, ttl_s),
        expires_at=services.clock() + timedelta(seconds=ttl_s),
    )
