"""The local-disk store's HTTP side: it receives signed upload forms and serves signed downloads from disk."""

from datetime import UTC, datetime

from aiohttp import BodyPartReader, web

from gateway.files.problems import FileNotFound, FileTooLarge, SignatureRefused
from gateway.problems import MalformedRequest, NotFound, input_prefix
from providers.errors import SignatureInvalid, VendorRejected
from providers.storage import LocalObjectStore, ObjectStore

FILE_FIELD = "file"
MAX_FORM_FIELDS = 16
MAX_FIELD_BYTES = 4096
CHUNK_BYTES = 64 * 1024


def local_store(store: ObjectStore) -> LocalObjectStore:
    """The store when it is the local one; these routes do not exist for any other."""
    if not isinstance(store, LocalObjectStore):
        raise NotFound("this deployment stores files elsewhere")
    return store


async def receive_upload(store: LocalObjectStore, request: web.Request) -> None:
    """Take a browser-style POST upload as S3 does: signed fields first, then the file, within the signed size."""
    if not request.content_type.startswith("multipart/form-data"):
        raise MalformedRequest("send the upload as multipart/form-data")
    reader = await request.multipart()
    fields: dict[str, str] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            raise MalformedRequest("the upload form has an unnamed or nested part")
        if part.name == FILE_FIELD:
            try:
                grant = store.verify_upload_signature(fields)
            except (SignatureInvalid, VendorRejected) as refused:
                raise SignatureRefused(str(refused)) from None
            data = await _read_at_most(part, grant.max_bytes, FileTooLarge(f"at most {grant.max_bytes} bytes"))
            try:
                await store.store_upload(grant, data)
            except VendorRejected as rejected:
                raise MalformedRequest(str(rejected)) from None
            return
        if len(fields) >= MAX_FORM_FIELDS:
            raise MalformedRequest("the upload form has too many fields")
        raw = await _read_at_most(part, MAX_FIELD_BYTES, MalformedRequest(f"form field {input_prefix(part.name)} is too long"))
        fields[part.name] = raw.decode("utf-8", errors="replace")
    raise MalformedRequest(f"the upload form has no {FILE_FIELD!r} part")


async def _read_at_most(part: BodyPartReader, limit: int, too_long: Exception) -> bytes:
    chunks: list[bytes] = []
    received = 0
    while chunk := await part.read_chunk(CHUNK_BYTES):
        received += len(chunk)
        if received > limit:
            raise too_long
        chunks.append(chunk)
    return b"".join(chunks)


async def serve_download(store: LocalObjectStore, request: web.Request, key: str) -> web.FileResponse:
    """Stream the object from disk (sendfile, ranges) when the URL's signature holds and it has not expired."""
    expires = request.query.get("expires", "")
    try:
        store.verify_download_signature(key, expires, request.query.get("signature", ""))
    except SignatureInvalid as refused:
        raise SignatureRefused(str(refused)) from None
    except VendorRejected:
        raise FileNotFound() from None
    info = await store.head(key)
    if info is None:
        raise FileNotFound()
    remaining_s = max(0, int(expires) - int(datetime.now(UTC).timestamp()))
    headers = {
        "Content-Type": info.content_type or "application/octet-stream",
        "Cache-Control": f"private, max-age={remaining_s}",
    }
    return web.FileResponse(await store.file_path(key), headers=headers)
