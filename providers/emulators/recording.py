"""What every vendor emulator shares: a log of the requests it received and failures it can be told to answer."""

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import CIMultiDict, MultiDict


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator saw it, before deciding how to answer."""

    method: str
    path: str
    headers: CIMultiDict[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> MultiDict[str]:
        return MultiDict(parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass(frozen=True)
class _PlannedFailure:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class RecordingEmulator:
    """Base of the emulators: `app` records every request and answers planned failures before any handler runs."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._failures: deque[_PlannedFailure] = deque()
        self.app = web.Application(middlewares=[self._record_then_maybe_fail])

    def fail_next(
        self, count: int = 1, status: int = 503, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        """Answer the next `count` requests with `status` (and a JSON `body`), whatever they are."""
        failure = _PlannedFailure(status, body if body is not None else {"error": "emulated failure"}, headers or {})
        self._failures.extend([failure] * count)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    @web.middleware
    async def _record_then_maybe_fail(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(RecordedRequest(request.method, request.path, CIMultiDict(request.headers), body))
        if self._failures:
            failure = self._failures.popleft()
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        return await handler(request)
