"""The OpenAPI document and its interactive page."""

from aiohttp import web

from gateway.jsoncodec import json_response
from gateway.openapi import docs_page
from gateway.routing import ApiRoutes
from gateway.state import OPENAPI_DOCUMENT

routes = ApiRoutes(tag="operations")


@routes.get("/openapi.json", summary="This API's OpenAPI 3.1 document")
async def openapi_document(request: web.Request) -> web.Response:
    return json_response(request.app[OPENAPI_DOCUMENT])


@routes.get("/docs", summary="Interactive API documentation")
async def interactive_docs(request: web.Request) -> web.Response:
    return web.Response(text=docs_page("/openapi.json", "Lango API"), content_type="text/html")
