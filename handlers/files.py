"""File routes: upload forms, confirmation, small uploads, metadata with signed URLs, deletion, local-disk storage."""

from aiohttp import web

from documents.stored_file import FileKind
from gateway.files.lifecycle import delete_file, file_view, readable_file
from gateway.files.uploads import UploadRequest, confirm_upload, start_upload, upload_through_gateway
from gateway.files.views import FileView, UploadTicket
from gateway.http_access import AUTHENTICATED
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES
from gateway.vendors.adapters import LOCAL_DOWNLOAD_PATH, LOCAL_UPLOAD_PATH
from handlers.local_storage import local_store, receive_upload, serve_download

routes = ApiRoutes(tag="files")
storage_routes = ApiRoutes(tag="storage")


class UploadQuery(RequestModel):
    kind: FileKind = FileKind.PHOTO


@routes.post(
    "/v1/files/uploads",
    body=UploadRequest,
    response=UploadTicket,
    status=201,
    access=AUTHENTICATED,
    problems=(413, 422, 503),
    summary="Get a form to upload a file straight to storage",
    description="POST the returned fields, then the file, to `upload.url`; then confirm the file.",
)
async def create_upload(request: web.Request, caller: Caller, body: UploadRequest) -> UploadTicket:
    return await start_upload(request.app[SERVICES], caller, body)


@routes.post(
    "/v1/files/{file_id}/confirm",
    response=FileView,
    access=AUTHENTICATED,
    problems=(404, 409, 413, 422, 503),
    summary="Check an uploaded file and make it ready",
    description="The type is read from the file's bytes; photos get thumbnails. A refused file is deleted.",
)
async def confirm_file(request: web.Request, caller: Caller) -> FileView:
    file = await confirm_upload(request.app[SERVICES], caller, request.match_info["file_id"])
    return await file_view(request.app[SERVICES], caller, file)


@routes.post(
    "/v1/files",
    query=UploadQuery,
    response=FileView,
    status=201,
    access=AUTHENTICATED,
    problems=(413, 422, 503),
    summary="Upload a small file through the gateway",
    description="The body is the file itself, its Content-Type the file's type; larger files use an upload form.",
)
async def upload_file(request: web.Request, caller: Caller, query: UploadQuery) -> FileView:
    file = await upload_through_gateway(
        request.app[SERVICES], caller, query.kind, request.content_type, request.content, request.content_length
    )
    return await file_view(request.app[SERVICES], caller, file)


@routes.get(
    "/v1/files/{file_id}",
    response=FileView,
    access=AUTHENTICATED,
    problems=(404,),
    summary="A file's metadata and signed, expiring URLs",
)
async def get_file(request: web.Request, caller: Caller) -> FileView:
    file = await readable_file(caller, request.match_info["file_id"])
    return await file_view(request.app[SERVICES], caller, file)


@routes.delete(
    "/v1/files/{file_id}",
    access=AUTHENTICATED,
    problems=(404, 503),
    summary="Delete a file with its thumbnails",
)
async def remove_file(request: web.Request, caller: Caller) -> None:
    await delete_file(request.app[SERVICES], caller, request.match_info["file_id"])


@storage_routes.post(
    LOCAL_UPLOAD_PATH,
    status=204,
    problems=(400, 403, 404, 413),
    summary="Receive a signed upload form (local-disk storage only)",
)
async def local_upload(request: web.Request) -> None:
    await receive_upload(local_store(request.app[SERVICES].storage), request)


@storage_routes.get(
    LOCAL_DOWNLOAD_PATH + "/{key:.+}",
    problems=(403, 404),
    response_content_type="application/octet-stream",
    summary="Serve a file by its signed URL (local-disk storage only)",
)
async def local_download(request: web.Request) -> web.StreamResponse:
    store = local_store(request.app[SERVICES].storage)
    return await serve_download(store, request, request.match_info["key"])
