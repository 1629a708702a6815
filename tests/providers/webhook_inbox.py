"""A stand-in for the gateway's webhook routes that hands every delivery to the test awaiting it."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from providers.emulators import serve_emulator


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
