"""The OpenAPI document, its interactive page, and the page's assets (served here: nothing comes from a CDN)."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, RootModel

from gateway.docs_assets import DOCS_ASSETS_PATH, DOCS_CONTENT_SECURITY_POLICY, DocsAsset, docs_assets, docs_page
from gateway.responses import json_response
from gateway.routing import ApiRoutes
from gateway.state import OPENAPI_DOCUMENT

routes = ApiRoutes(tag="operations")
OPENAPI_PATH = "/openapi.json"
DOCS_TITLE = "Lango API"
# Assets change only with the package's version: a day's caching, revalidated by ETag.
ASSET_MAX_AGE_S = 86_400


class OpenApiDocument(BaseModel):
    """An OpenAPI 3.1 document; its parts are described by the OpenAPI specification, not repeated here."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


class HtmlPage(RootModel[str]):
    """An HTML page."""


@routes.get(OPENAPI_PATH, response=OpenApiDocument, summary="This API's OpenAPI 3.1 document")
async def openapi_document(request: web.Request) -> web.Response:
    return json_response(request.app[OPENAPI_DOCUMENT])


@routes.get(
    "/docs",
    response=HtmlPage,
    response_content_type="text/html",
    summary="Interactive API documentation",
    description="Swagger UI, served by the gateway from the pinned `swagger-ui-py` package (under `/docs/assets/`, "
    "each file with its integrity digest): it works offline and loads nothing from another origin.",
)
async def interactive_docs(request: web.Request) -> web.Response:
    return web.Response(
        text=docs_page(docs_assets(OPENAPI_PATH), DOCS_TITLE),
        content_type="text/html",
        headers={"Content-Security-Policy": DOCS_CONTENT_SECURITY_POLICY},
    )


def install_docs_assets(app: web.Application) -> None:
    """The page's files, read now (start-up, before the loop serves anyone) and answered from memory."""
    assets = docs_assets(OPENAPI_PATH)
    for name, asset in assets.items():
        app.router.add_get(DOCS_ASSETS_PATH + name, _answer_with(asset), name=f"docs_asset_{name}")


def _answer_with(asset: DocsAsset) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def docs_asset(request: web.Request) -> web.Response:
        headers = {"ETag": asset.etag, "Cache-Control": f"public, max-age={ASSET_MAX_AGE_S}"}
        if asset.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        return web.Response(body=asset.body, content_type=asset.content_type, charset="utf-8", headers=headers)

    return docs_asset
