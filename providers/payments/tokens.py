"""A vendor OAuth access token kept in memory and refreshed before it expires, one refresh at a time."""

import asyncio
import time
from collections.abc import Awaitable, Callable

TokenFetcher = Callable[[], Awaitable[tuple[str, float]]]


class AccessTokenCache:
    """Hands out a cached bearer token; callers arriving during a refresh wait for that same refresh."""

    def __init__(
        self,
        fetch: TokenFetcher,
        *,
        refresh_margin_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._refresh_margin = refresh_margin_seconds
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self._generation = 0

    async def get(self) -> str:
        if self._token is not None and self._clock() < self._refresh_at:
            return self._token
        generation_seen = self._generation
        async with self._lock:
            # Whoever held the lock before us may have just refreshed: use that token even if its
            # lifetime is shorter than the margin, rather than refreshing once per waiter.
            if self._token is not None and (self._generation != generation_seen or self._clock() < self._refresh_at):
                return self._token
            token, lifetime_seconds = await self._fetch()
            self._token = token
            self._refresh_at = self._clock() + lifetime_seconds - self._refresh_margin
            self._generation += 1
            return token

    def invalidate(self, token: str) -> None:
        """Forget `token` after the vendor refused it, unless a newer one has replaced it already."""
        if self._token == token:
            self._token = None
