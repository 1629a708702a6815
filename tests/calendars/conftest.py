"""A local HTTP server playing Airbnb's and Booking.com's calendar exports (and slow, huge and redirecting feeds),
and settings that let the sync fetch from it: only a test deployment may fetch from a loopback address."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.settings import Settings
from tests.conftest import make_settings


@pytest.fixture
def settings(mongodb_url: str, redis_url: str) -> Settings:
    return make_settings(
        mongodb_url,
        redis_url,
        auth={"bcrypt_cost": 4},
        calendar={"allow_private_addresses": True, "fetch_timeout_s": 1.0, "max_feed_bytes": 8192},
    )


@dataclass
class FeedServer:
    """Serves `feeds[name]` at /<name>.ics with an ETag, answering 304 to a matching If-None-Match."""

    feeds: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    never_answer: asyncio.Event = field(default_factory=asyncio.Event)
    base_url: str = ""

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    async def feed(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.requests.append((name, request.headers.get("If-None-Match")))
        if name not in self.feeds:
            raise web.HTTPNotFound()
        etag = f'"{abs(hash(self.feeds[name]))}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=self.feeds[name].encode(), content_type="text/calendar", headers={"ETag": etag})

    async def slow(self, request: web.Request) -> web.StreamResponse:
        # Headers sent, then nothing: only the fetch's own time limit ends the wait.
        response = web.StreamResponse(headers={"Content-Type": "text/calendar"})
        await response.prepare(request)
        await response.write(b"BEGIN:VCALENDAR\r\n")
        await self.never_answer.wait()
        return response

    async def huge(self, request: web.Request) -> web.StreamResponse:
        # Streamed without a Content-Length, so only counting the bytes read catches it.
        response = web.StreamResponse(headers={"Content-Type": "text/calendar"})
        await response.prepare(request)
        for _ in range(64):
            await response.write(b"X-FILLER:" + b"x" * 1000 + b"\r\n")
        return response

    async def redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"/{request.match_info['name']}.ics")

    async def loop(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/loop")


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    served = FeedServer()
    app = web.Application()
    app.router.add_get("/slow.ics", served.slow)
    app.router.add_get("/huge.ics", served.huge)
    app.router.add_get("/moved/{name}", served.redirect)
    app.router.add_get("/loop", served.loop)
    app.router.add_get("/{name}.ics", served.feed)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    served.base_url = str(server.make_url("")).rstrip("/")
    yield served
    served.never_answer.set()
    await server.close()
