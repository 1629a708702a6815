"""What the payment tests share: an HTTP client like the gateway's and a stand-in for its webhook routes."""

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from aiohttp import web

from providers.emulators import serve_emulator

# Loading the trust store takes a noticeable moment; done once at import, never on the event loop.
_TRUST_STORE = ssl.create_default_context()


@asynccontextmanager
async def vendor_http_client() -> AsyncIterator[httpx.AsyncClient]:
    """One client for a whole session, like the gateway's; serve it from a session-scoped fixture."""
    async with httpx.AsyncClient(verify=_TRUST_STORE) as client:
        # The first request imports httpx's async network backend: pay for that here, outside any test.
        async with serve_emulator(web.Application()) as url:
            await client.get(url)
        yield client


@dataclass(frozen=True)
class ReceivedWebhook:
    path_token: str | None
    headers: dict[str, str]
    body: bytes


class WebhookInbox:
    def __init__(self, reply: dict[str, Any]) -> None:
        self.url = ""
        self._reply = reply
        self._received: asyncio.Queue[ReceivedWebhook] = asyncio.Queue()

    async def receive(self, request: web.Request) -> web.Response:
        token = request.match_info.get("token")
        await self._received.put(ReceivedWebhook(token, dict(request.headers), await request.read()))
        return web.json_response(self._reply)

    async def next(self) -> ReceivedWebhook:
        return await asyncio.wait_for(self._received.get(), timeout=5)


@asynccontextmanager
async def serve_webhook_inbox(reply: dict[str, Any] | None = None) -> AsyncIterator[WebhookInbox]:
    """Serve `/webhooks/{vendor}` and `/webhooks/{vendor}/{token}` on loopback; `inbox.url` is the base."""
    inbox = WebhookInbox(reply or {"received": True})
    app = web.Application()
    app.router.add_post("/webhooks/{vendor}", inbox.receive)
    app.router.add_post("/webhooks/{vendor}/{token}", inbox.receive)
    async with serve_emulator(app) as url:
        inbox.url = f"{url}/webhooks"
        yield inbox
