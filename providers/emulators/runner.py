"""Serve an emulator's aiohttp application on a loopback port for as long as a context lasts."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


@asynccontextmanager
async def serve_emulator(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Run `app` on host:port (0 picks a free port) and yield its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        await runner.cleanup()
