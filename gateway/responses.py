"""The answers aiohttp sends: JSON bodies, and the problem details the domain raises written as problem+json."""

from typing import Any

from aiohttp import web

from gateway.jsoncodec import JSON_CONTENT_TYPE, dumps
from gateway.problems import (
    PROBLEM_CONTENT_TYPE,
    Conflict,
    Forbidden,
    InternalError,
    MalformedRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
    TooManyRequests,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)

HTTP_STATUS_PROBLEMS: dict[int, type[Problem]] = {
    problem.status: problem
    for problem in (
        MalformedRequest,
        Unauthenticated,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        ValidationFailed,
        TooManyRequests,
        InternalError,
        ServiceUnavailable,
    )
}


def json_response(
    value: Any, *, status: int = 200, content_type: str = JSON_CONTENT_TYPE, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(body=dumps(value), status=status, content_type=content_type, headers=headers)


def problem_response(problem: Problem, instance: str, request_id: str | None) -> web.Response:
    return json_response(
        problem.body(instance, request_id),
        status=problem.status,
        content_type=PROBLEM_CONTENT_TYPE,
        headers=problem.headers,
    )


def from_http_exception(error: web.HTTPException) -> Problem:
    """The problem that stands for an aiohttp HTTP exception (router 404/405, body 413, …)."""
    problem_class = HTTP_STATUS_PROBLEMS.get(error.status)
    if problem_class is None or problem_class is TooManyRequests:
        problem = Problem(error.reason)
        problem.status = error.status  # type: ignore[misc]
        return problem
    headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
    return problem_class(headers=headers)
