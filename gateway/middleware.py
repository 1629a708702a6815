"""Cross-cutting HTTP behaviour: request ids, access logs, problem+json errors, compression."""

import re
import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from pymongo.errors import ConnectionFailure
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.logs import get_logger
from gateway.problems import InternalError, Problem, ServiceUnavailable
from gateway.responses import from_http_exception, problem_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

REQUEST_ID_HEADER = "X-Request-ID"
_WELL_FORMED_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
REQUEST_ID = web.RequestKey("request_id", str)
# A dropped or unanswered connection to MongoDB or Redis: the request may be retried, after this many seconds.
DEPENDENCY_RETRY_AFTER_S = 1
_CONNECTION_ERRORS = (ConnectionFailure, RedisConnectionError, RedisTimeoutError)

access_log = get_logger("lango.access")
error_log = get_logger("lango.errors")


def request_id_of(request: web.Request) -> str | None:
    return request.get(REQUEST_ID)


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Accept a well-formed client X-Request-ID or mint one; echo it and bind it to every log line."""
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = offered if _WELL_FORMED_REQUEST_ID.match(offered) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        response = await handler(request)
    response.headers[REQUEST_ID_HEADER] = request_id
    return response


@web.middleware
async def access_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One structured line per request: method, route, status, duration, request id."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        access_log.info(
            "request",
            method=request.method,
            route=route_of(request),
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )


def route_of(request: web.Request) -> str:
    """The route template (`/v1/bookings/{id}`), not the concrete path, so ids never fan out labels."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error into problem+json; an unexpected one is logged in full and answered without internals."""
    try:
        return await handler(request)
    except Problem as problem:
        return problem_response(problem, request.path, request_id_of(request))
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return problem_response(from_http_exception(error), request.path, request_id_of(request))
    except _CONNECTION_ERRORS as error:
        # Not a bug of the request: the database or Redis is unreachable (or dropped the connection) right now.
        error_log.warning("dependency unreachable", method=request.method, route=route_of(request), error=repr(error))
        unavailable = ServiceUnavailable(
            "the database or cache did not answer; try again", headers={"Retry-After": str(DEPENDENCY_RETRY_AFTER_S)}
        )
        return problem_response(unavailable, request.path, request_id_of(request))
    except Exception:
        error_log.exception("unhandled error", method=request.method, route=route_of(request))
        return problem_response(InternalError(), request.path, request_id_of(request))


def compression_middleware(min_bytes: int) -> Middleware:
    """Gzip JSON answers larger than `min_bytes` for clients that accept it."""

    @web.middleware
    async def compress(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if (
            isinstance(response, web.Response)
            and response.body is not None
            and len(response.body) >= min_bytes  # type: ignore[arg-type]
            and "json" in (response.content_type or "")
            and "gzip" in request.headers.get("Accept-Encoding", "")
        ):
            response.enable_compression(web.ContentCoding.gzip)
        return response

    return compress
