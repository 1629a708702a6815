"""The OpenAPI document and its interactive page."""

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, RootModel

from gateway.http_security import docs_content_security_policy
from gateway.jsoncodec import json_response
from gateway.openapi import docs_page, swagger_init_script
from gateway.routing import ApiRoutes
from gateway.state import OPENAPI_DOCUMENT

routes = ApiRoutes(tag="operations")
OPENAPI_PATH = "/openapi.json"


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


@routes.get("/docs", response=HtmlPage, response_content_type="text/html", summary="Interactive API documentation")
async def interactive_docs(request: web.Request) -> web.Response:
    return web.Response(
        text=docs_page(OPENAPI_PATH, "Lango API"),
        content_type="text/html",
        headers={"Content-Security-Policy": docs_content_security_policy(swagger_init_script(OPENAPI_PATH))},
    )
