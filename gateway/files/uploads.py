"""Getting a file in: presigned direct uploads, their confirmation, and small uploads through the gateway."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Protocol

from beanie import PydanticObjectId
from pydantic import Field

from documents.stored_file import FileKind, FileStateConflict, FileStatus, StoredFile, ThumbnailRef
from gateway.files.lifecycle import owned_file, remove_objects
from gateway.files.problems import FileNotFound, FileTooLarge, FileTypeRefused, StorageUnavailable, UploadMissing
from gateway.files.views import UploadForm, UploadTicket
from gateway.logs import get_logger
from gateway.request_models import RequestModel
from gateway.security.callers import Caller
from gateway.services import Services
from providers.errors import ProviderMisconfigured, VendorRejected, VendorUnavailable
from providers.storage import ACCEPTED_IMAGE_TYPES, SNIFF_BYTES, ObjectStore, render_thumbnails, sniff_content_type

log = get_logger("lango.files")

ACCEPTED_TYPES: dict[FileKind, frozenset[str]] = {
    FileKind.PHOTO: ACCEPTED_IMAGE_TYPES,
    FileKind.DOCUMENT: ACCEPTED_IMAGE_TYPES | {"application/pdf"},
}
CHUNK_BYTES = 64 * 1024

# Larger than any upload limit a deployment would set (S3 takes at most 5 GiB in one PUT): bigger is nonsense.
MAX_DECLARED_BYTES = 5 * 1024**3
ContentType = Annotated[str, Field(pattern=r"^[a-z]+/[a-z0-9][a-z0-9.+-]*$", max_length=100)]


class ByteStream(Protocol):
    """A body read in chunks, as the HTTP edge hands it over (aiohttp's StreamReader is one)."""

    async def read(self, n: int = -1) -> bytes: ...


class UploadRequest(RequestModel):
    """The file a phone is about to upload: what it is for, its type and its exact size in bytes."""

    kind: FileKind
    content_type: ContentType
    size: Annotated[int, Field(ge=1, le=MAX_DECLARED_BYTES)]


@asynccontextmanager
async def storage_errors() -> AsyncIterator[None]:
    """Storage that cannot answer is a 503 for the client; a broken deployment is also logged loudly."""
    try:
        yield
    except ProviderMisconfigured as error:
        log.error("object storage is misconfigured", error=str(error), reason=error.reason)
        raise StorageUnavailable() from None
    except VendorUnavailable as error:
        log.warning("object storage unavailable", error=str(error), reason=error.reason)
        raise StorageUnavailable() from None


def _check_declared(kind: FileKind, content_type: str, size: int, limit: int) -> None:
    if content_type not in ACCEPTED_TYPES[kind]:
        raise FileTypeRefused(f"a {kind.value} must be one of {', '.join(sorted(ACCEPTED_TYPES[kind]))}")
    if size > limit:
        raise FileTooLarge(f"at most {limit} bytes", max_bytes=limit)


def _new_file(caller: Caller, kind: FileKind, content_type: str, max_bytes: int) -> StoredFile:
    file_id = PydanticObjectId()
    return StoredFile(
        id=file_id,
        owner_id=caller.user_id,
        kind=kind,
        key=f"files/{caller.user_id}/{file_id}",
        declared_type=content_type,
        max_bytes=max_bytes,
    )


async def start_upload(services: Services, caller: Caller, request: UploadRequest) -> UploadTicket:
    """A pending file and a form that lets the phone POST exactly that many bytes of that type to storage."""
    settings = services.settings.storage
    _check_declared(request.kind, request.content_type, request.size, settings.max_upload_bytes)
    file = _new_file(caller, request.kind, request.content_type, request.size)
    async with storage_errors():
        presigned = await services.storage.presign_upload(
            file.upload_key, request.content_type, request.size, settings.upload_url_ttl_s
        )
    await file.insert()
    form = UploadForm(
        url=presigned.url,
        fields=presigned.fields,
        content_type=presigned.content_type,
        max_bytes=presigned.max_bytes,
        expires_at=presigned.expires_at.isoformat(),
    )
    return UploadTicket(file_id=str(file.id), upload=form)


async def confirm_upload(services: Services, caller: Caller, file_id: str) -> StoredFile:
    """Take what landed in storage out of the form's reach, check it (size, type sniffed from its bytes), render
    thumbnails, mark it ready."""
    file = await owned_file(caller, file_id)
    if file.status is FileStatus.READY:
        return file
    store = services.storage
    # The form can be posted again until it expires. The bytes are moved to a key of this confirmation's own and
    # checked there: nothing can change them once checked, and what the form writes afterwards is never read.
    attempt = file.model_copy(update={"key": f"{file.key}.{secrets.token_hex(8)}"})
    async with storage_errors():
        try:
            await store.move(file.upload_key, attempt.key)
        except VendorRejected as missing:
            if missing.reason != "not_found":
                raise
            return await _confirmed_meanwhile(file)
        info = await store.head(attempt.key)
        if info is None:
            return await _confirmed_meanwhile(file)
        # Not every S3-compatible service enforces the signed size range, so it is checked here again.
        if info.size > file.max_bytes:
            await _refuse(store, attempt)
            raise FileTooLarge(f"{info.size} bytes uploaded, {file.max_bytes} allowed", max_bytes=file.max_bytes)
        # Photos are decoded whole for their thumbnails; other files only need their signature.
        if file.kind is FileKind.PHOTO:
            data = await store.get(attempt.key)
        else:
            data = await store.read_prefix(attempt.key, SNIFF_BYTES)
        return await _accept(store, attempt, info.size, data)


async def _confirmed_meanwhile(file: StoredFile) -> StoredFile:
    """The form's object is gone: a confirmation running at the same time took it, or nothing was posted yet."""
    current = await StoredFile.get(file.id)
    if current is not None and current.status is FileStatus.READY:
        return current
    raise UploadMissing("POST the file with the upload form first")


async def upload_through_gateway(
    services: Services,
    caller: Caller,
    kind: FileKind,
    content_type: str,
    body: ByteStream,
    declared_size: int | None,
) -> StoredFile:
    """Store a small file sent as the request body itself, after the same checks a confirmed upload gets."""
    limit = services.settings.storage.max_server_upload_bytes
    _check_declared(kind, content_type, declared_size or 0, limit)
    data = await _read_body(body, limit)
    if not data:
        raise FileTypeRefused("the body is empty")
    _check_sniffed(kind, content_type, data)
    file = _new_file(caller, kind, content_type, limit)
    await file.insert()
    store = services.storage
    async with storage_errors():
        await store.put(file.key, data, content_type)
        return await _accept(store, file, len(data), data)


async def _read_body(body: ByteStream, limit: int) -> bytes:
    chunks: list[bytes] = []
    received = 0
    while chunk := await body.read(CHUNK_BYTES):
        received += len(chunk)
        if received > limit:
            raise FileTooLarge(f"at most {limit} bytes through the gateway; use an upload form", max_bytes=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _check_sniffed(kind: FileKind, declared_type: str, data: bytes) -> str:
    sniffed = sniff_content_type(data[:SNIFF_BYTES])
    if sniffed not in ACCEPTED_TYPES[kind]:
        raise FileTypeRefused(f"the bytes are {sniffed or 'of no known type'}, not a {kind.value}")
    if sniffed != declared_type:
        raise FileTypeRefused(f"declared {declared_type} but the bytes are {sniffed}")
    return sniffed


async def _accept(store: ObjectStore, file: StoredFile, size: int, data: bytes) -> StoredFile:
    try:
        content_type = _check_sniffed(file.kind, file.declared_type, data)
        thumbnails = await render_thumbnails(file.key, data) if file.kind is FileKind.PHOTO else []
    except FileTypeRefused:
        await _refuse(store, file)
        raise
    except VendorRejected as undecodable:
        await _refuse(store, file)
        raise FileTypeRefused(str(undecodable)) from None
    await asyncio.gather(*(store.put(rendition.key, rendition.data, rendition.content_type) for rendition in thumbnails))
    refs = [
        ThumbnailRef(key=rendition.key, longest_side=rendition.longest_side, width=rendition.width, height=rendition.height)
        for rendition in thumbnails
    ]
    try:
        return await file.mark_ready(content_type, size, refs)
    except FileStateConflict:
        # Confirmed twice at once (the other confirmation won, with objects of its own), or deleted meanwhile.
        await remove_objects(store, file)
        current = await StoredFile.get(file.id)
        if current is not None and current.status is FileStatus.READY:
            return current
        raise FileNotFound() from None


async def _refuse(store: ObjectStore, file: StoredFile) -> None:
    """A file that is not what it claims is gone for good: its bytes and its record."""
    await remove_objects(store, file)
    try:
        await file.mark_deleted()
    except FileStateConflict:
        log.info("refused file was already deleted", file_id=str(file.id))
