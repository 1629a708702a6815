"""The API reference page and its assets: Swagger UI's files from the pinned `swagger-ui-py` package, served by the
gateway itself with their Subresource Integrity digests, so `/docs` works offline and loads nothing from elsewhere."""

import base64
import hashlib
from dataclasses import dataclass
from functools import cache
from html import escape
from importlib.util import find_spec
from pathlib import Path

DOCS_ASSETS_PATH = "/docs/assets/"
# Swagger UI's own files the page loads, from the package's `static` folder.
SWAGGER_UI_FILES = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}
START_SCRIPT = "lango-docs.js"
# Scripts and styles only from the gateway. Swagger UI sets style attributes at run time, hence 'unsafe-inline' for
# styles (not scripts); its icons are data: URLs.
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    )
)


@dataclass(frozen=True)
class DocsAsset:
    body: bytes
    content_type: str
    # `sha384-…`, for the page's integrity attribute.
    integrity: str

    @property
    def etag(self) -> str:
        return f'"{self.integrity.removeprefix("sha384-")[:27]}"'


def _asset(body: bytes, content_type: str) -> DocsAsset:
    return DocsAsset(body, content_type, "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode())


def _swagger_ui_static() -> Path:
    # Found without importing the package, whose framework adapters the gateway does not use.
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed: run `make sync`")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def start_script(openapi_url: str) -> str:
    # No validator badge: Swagger UI would send the document to validator.swagger.io and load an image from there.
    return f'window.ui = SwaggerUIBundle({{url: "{openapi_url}", dom_id: "#ui", validatorUrl: null}});\n'


@cache
def docs_assets(openapi_url: str) -> dict[str, DocsAsset]:
    """Every file the page loads, by name; read once per process (at start-up, off the event loop)."""
    static = _swagger_ui_static()
    assets = {name: _asset((static / name).read_bytes(), content_type) for name, content_type in SWAGGER_UI_FILES.items()}
    assets[START_SCRIPT] = _asset(start_script(openapi_url).encode(), "text/javascript")
    return assets


def docs_page(assets: dict[str, DocsAsset], title: str) -> str:
    """Swagger UI over the OpenAPI document, every file from the gateway and checked against its digest."""

    def script(name: str) -> str:
        return f'<script src="{DOCS_ASSETS_PATH}{name}" integrity="{assets[name].integrity}"></script>'

    stylesheet = f'<link rel="stylesheet" href="{DOCS_ASSETS_PATH}swagger-ui.css" integrity="{assets["swagger-ui.css"].integrity}">'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
{stylesheet}</head>
<body><div id="ui"></div>
{script("swagger-ui-bundle.js")}
{script(START_SCRIPT)}
</body></html>"""
