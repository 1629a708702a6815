"""The gateway's web apps (the door scanner at /scan): their files, read once at start, under a strict CSP."""

import functools
import gzip
import hashlib
import mimetypes
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import hdrs, web

from gateway.http_security import WEB_APP_CSP
from gateway.problems import NotFound
from gateway.settings import Settings

# Each web app: its path on the gateway and its folder under the front-end root.
WEB_APPS = {"/scan": "scan"}
COMPRESSIBLE = (".html", ".js", ".css", ".json", ".webmanifest", ".svg")
CONTENT_TYPES = {".webmanifest": "application/manifest+json", ".js": "text/javascript"}


@dataclass(frozen=True)
class WebFile:
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str


# Once per process: every gateway a process builds (tests build hundreds) serves the same files.
@functools.cache
def read_web_app(folder: Path) -> dict[str, WebFile]:
    """Every file of the app by its path inside the folder; nothing outside it can ever be asked for."""
    if not folder.is_dir():
        raise RuntimeError(f"server.web_root: no web app folder at {folder}")
    files: dict[str, WebFile] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if not path.is_file() or any(part.startswith(".") for part in relative.split("/")):
            continue
        body = path.read_bytes()
        suffix = path.suffix.lower()
        content_type = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        files[relative] = WebFile(
            body=body,
            gzipped=gzip.compress(body, mtime=0) if suffix in COMPRESSIBLE else None,
            content_type=content_type,
            etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"',
        )
    return files


def serve_files(files: dict[str, WebFile]) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve_web_file(request: web.Request) -> web.StreamResponse:
        found = files.get(request.match_info["path"] or "index.html")
        if found is None:
            raise NotFound("no such file in this web app")
        headers = {
            hdrs.ETAG: found.etag,
            # Always revalidated: the app's service worker keeps the copy used offline.
            hdrs.CACHE_CONTROL: "no-cache",
            hdrs.VARY: hdrs.ACCEPT_ENCODING,
            "Content-Security-Policy": WEB_APP_CSP,
        }
        if found.etag in request.headers.get(hdrs.IF_NONE_MATCH, ""):
            return web.Response(status=304, headers=headers)
        body = found.body
        if found.gzipped is not None and "gzip" in request.headers.get(hdrs.ACCEPT_ENCODING, ""):
            body, headers[hdrs.CONTENT_ENCODING] = found.gzipped, "gzip"
        return web.Response(body=body, headers={**headers, hdrs.CONTENT_TYPE: found.content_type})

    return serve_web_file


def install_web_apps(app: web.Application, settings: Settings) -> None:
    """`/scan` redirects to `/scan/`, whose files are the folder's; pages, not API operations, so not in OpenAPI."""
    root = Path(settings.server.web_root).resolve()
    for prefix, folder in WEB_APPS.items():
        files = read_web_app(root / folder)

        async def to_folder(request: web.Request, prefix: str = prefix) -> web.Response:
            return web.Response(status=308, headers={hdrs.LOCATION: f"{prefix}/"})

        app.router.add_get(prefix, to_folder, name=f"web_app_{folder}")
        app.router.add_get(prefix + "/{path:.*}", serve_files(files), name=f"web_app_{folder}_files")
