"""Declared HTTP operations: one decorator validates input, calls the handler, encodes the answer, feeds OpenAPI."""

import functools
import re
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from aiohttp import web
from multidict import MultiMapping
from pydantic import BaseModel

from gateway.jsoncodec import JSON_CONTENT_TYPE, JsonTooDeep, loads
from gateway.problems import MalformedRequest, UnsupportedMediaType, input_prefix
from gateway.request_models import validate
from gateway.responses import json_response
from gateway.state import MAX_JSON_DEPTH

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,128}")
_PATH_PARAM = re.compile(r"{(\w+)(?::[^}]*)?}")


class Access(Protocol):
    """Who may call an operation: resolves the caller or raises a 401/403 problem."""

    openapi_security: list[dict[str, list[str]]]
    description: str

    async def __call__(self, request: web.Request) -> Any: ...


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Callable[..., Awaitable[Any]]
    summary: str
    tag: str
    status: int = 200
    body: type[BaseModel] | None = None
    # False for a body whose fields are all optional: a request without one is read as `{}`.
    body_required: bool = True
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    access: Access | None = None
    problems: tuple[int, ...] = ()
    response_content_type: str = JSON_CONTENT_TYPE
    description: str = ""

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)

    @property
    def template(self) -> str:
        """The path as OpenAPI writes it: `{key:.+}` becomes `{key}`."""
        return _PATH_PARAM.sub(r"{\1}", self.path)


@dataclass
class ApiRoutes:
    """A group of operations sharing an OpenAPI tag; `install` adds them to an application."""

    tag: str
    operations: list[Operation] = field(default_factory=list)

    def get(self, path: str, **options: Any) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        return self._declare("GET", path, options)

    def post(self, path: str, **options: Any) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        return self._declare("POST", path, options)

    def put(self, path: str, **options: Any) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        return self._declare("PUT", path, options)

    def patch(self, path: str, **options: Any) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        return self._declare("PATCH", path, options)

    def delete(self, path: str, **options: Any) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        return self._declare("DELETE", path, options)

    def _declare(
        self, method: str, path: str, options: dict[str, Any]
    ) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        def register(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            summary = options.pop("summary", None) or (handler.__doc__ or handler.__name__).strip().splitlines()[0]
            self.operations.append(Operation(method, path, handler, summary, self.tag, **options))
            return handler

        return register

    def install(self, app: web.Application) -> None:
        for operation in self.operations:
            app.router.add_route(operation.method, operation.path, _endpoint(operation), name=operation.handler.__name__)


def _endpoint(operation: Operation) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @functools.wraps(operation.handler)
    async def endpoint(request: web.Request) -> web.StreamResponse:
        arguments: dict[str, Any] = {}
        if operation.access is not None:
            arguments["caller"] = await operation.access(request)
        if operation.query is not None:
            arguments["query"] = parse_query(operation.query, request.query)
        if operation.body is not None:
            if operation.body_required or request.body_exists:
                arguments["body"] = await parse_json_body(operation.body, request)
            else:
                arguments["body"] = validate(operation.body, {}, location="body")
        result = await operation.handler(request, **arguments)
        if isinstance(result, web.StreamResponse):
            return result
        if result is None:
            return web.Response(status=operation.status if operation.status != 200 else 204)
        return json_response(result.model_dump(mode="json"), status=operation.status)

    return endpoint


def parse_query(model: type[BaseModel], query: MultiMapping[str]) -> BaseModel:
    """Validate query parameters; a parameter given several times, or declared as a list, becomes a list."""
    values: dict[str, Any] = {}
    for key in set(query.keys()):
        given = query.getall(key)
        values[key] = given if len(given) > 1 or _expects_list(model, key) else given[0]
    return validate(model, values, location="query")


def _expects_list(model: type[BaseModel], name: str) -> bool:
    info = model.model_fields.get(name)
    if info is None:
        return False
    annotation = info.annotation
    candidates = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else (annotation,)
    return any(typing.get_origin(candidate) is list for candidate in candidates)


async def parse_json_body(model: type[BaseModel], request: web.Request) -> BaseModel:
    """Read, decode and validate a JSON body: 415 for another media type, 400 for bad JSON, 422 for bad fields."""
    if request.content_type != JSON_CONTENT_TYPE:
        raise UnsupportedMediaType(f"expected {JSON_CONTENT_TYPE}, got {input_prefix(request.content_type) or 'nothing'}")
    raw = await request.read()
    try:
        document = loads(raw, request.app[MAX_JSON_DEPTH])
    except JsonTooDeep as error:
        raise MalformedRequest(str(error)) from None
    except orjson.JSONDecodeError as error:
        raise MalformedRequest(f"the body is not valid JSON: {error}") from None
    return validate(model, document, location="body")


def required_idempotency_key(request: web.Request, why: str) -> str:
    """The Idempotency-Key of a request that may not go without one: 400 naming `why` when it is missing."""
    key = idempotency_key(request)
    if key is None:
        raise MalformedRequest(f"send an Idempotency-Key header {why}")
    return key


def created_response(view: BaseModel, created: bool) -> web.Response:
    """201 for what the request created; 200 marked Idempotent-Replayed for the same request repeated under its key."""
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return json_response(view.model_dump(mode="json"), status=201 if created else 200, headers=headers)


def idempotency_key(request: web.Request) -> str | None:
    """The request's Idempotency-Key header, if sent; 400 when it is not 8-128 safe characters."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise MalformedRequest("Idempotency-Key must be 8-128 characters of letters, digits and . _ : -")
    return key
