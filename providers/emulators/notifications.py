"""Background work of an emulator: the notifications it posts to the application, and its timers."""

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One notification the emulator posted, and the status the application answered (None: no answer)."""

    url: str
    body: bytes
    headers: Mapping[str, str]
    status: int | None


class NotificationDispatcher:
    """Runs an emulator's background tasks, holding each until it ends and cancelling the rest on close."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._tasks: set[asyncio.Task[None]] = set()
        # Notifications posted and not answered yet (timers that will post later are not counted).
        self.in_flight = 0
        self._session: ClientSession | None = None

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        """Post `body` to `url` in the background, as the vendor does after answering the API call."""
        self.in_flight += 1
        self.spawn(self._deliver(url, body, dict(headers)))

    async def _deliver(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        try:
            await self.exchange(url, body, headers)
        finally:
            self.in_flight -= 1

    async def exchange(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int | None, bytes]:
        """Post `body` to `url` and wait for the answer: its status (None: no answer) and body, also recorded."""
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=10))
        status: int | None = None
        answer = b""
        try:
            async with self._session.post(url, data=body, headers=dict(headers)) as response:
                status = response.status
                answer = await response.read()
        except (ClientError, TimeoutError) as exc:
            logger.warning("emulated notification not delivered", extra={"url": url, "error": repr(exc)})
        self.deliveries.append(Delivery(url, body, headers, status))
        return status, answer

    async def close(self, _app: web.Application | None = None) -> None:
        """Cancel what is still running; fits `app.on_cleanup` directly."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
