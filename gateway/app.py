"""The application factory: routes, middlewares, and the process's Services opened and closed around its life."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web

from documents.clock import stored_now
from gateway.client_address import client_address_middleware
from gateway.composition import JOBS, open_services
from gateway.http_metrics import http_metrics_middleware
from gateway.http_security import cors_middleware, security_headers
from gateway.jobs import EmbeddedWorker, create_worker
from gateway.logs import get_logger
from gateway.middleware import access_log_middleware, compression_middleware, problem_middleware, request_id_middleware
from gateway.probe import dependency_probe, service_checks
from gateway.realtime.context import drain_sockets
from gateway.realtime.heap import freeze_startup_heap
from gateway.realtime.server import create_socketio_server, mount_socketio, socket_upgrades_skip_middlewares
from gateway.settings import Settings
from gateway.state import MAX_JSON_DEPTH, READINESS_CHECKS, SERVICES, SOCKETIO
from handlers import install_routes

log = get_logger("lango.app")


# Graceful shutdown (SIGTERM/SIGINT, driven by aiohttp's run_app within server.shutdown_timeout_s):
#   1. the listening socket closes: no new connections;
#   2. app.on_shutdown hooks run in the order appended; the realtime hub appends the one that tells
#      every socket to reconnect elsewhere, so clients move before their connection drops;
#   3. requests still running get the rest of the timeout to finish;
#   4. cleanup_ctx unwinds in reverse: the probe stops, the in-process worker finishes its running jobs
#      (gateway.jobs.GracefulWorker), then the Services close in the reverse of their opening
#      (gateway.composition): the hub, the payment vendors' last work, the job queue, HTTP client, Redis, MongoDB.


def create_app(
    settings: Settings, *, run_worker: bool | None = None, clock: Callable[[], datetime] = stored_now
) -> web.Application:
    """Build the gateway; `run_worker` overrides whether the job worker runs inside this process, and `clock` is
    the time flows compare expiries with (tests move it)."""
    app = web.Application(
        client_max_size=settings.server.max_body_bytes,
        # Outermost first. CORS and metrics sit outside problem_middleware so they see the final status
        # and mark error answers too; security headers go on in on_response_prepare, which every answer passes.
        middlewares=[
            # First, so every later step (rate limits, audit, webhook source checks) reads the real client.
            client_address_middleware(settings.server.trusted_proxies),
            socket_upgrades_skip_middlewares,
            request_id_middleware,
            cors_middleware(settings.server.cors_origins),
            http_metrics_middleware,
            access_log_middleware,
            compression_middleware(settings.server.gzip_min_bytes),
            problem_middleware,
        ],
    )
    app[MAX_JSON_DEPTH] = settings.server.max_json_depth
    app[READINESS_CHECKS] = {}
    app.on_response_prepare.append(security_headers(settings.server))
    sio = create_socketio_server(settings)
    mount_socketio(app, sio)
    app[SOCKETIO] = sio

    async def services(app: web.Application) -> AsyncIterator[None]:
        async with open_services(settings, sio=sio, clock=clock) as opened:
            app[SERVICES] = opened
            app[READINESS_CHECKS].update(service_checks(opened))
            freeze_startup_heap(settings)
            yield

    app.cleanup_ctx.append(services)
    if settings.runs_jobs_in_process if run_worker is None else run_worker:
        app.cleanup_ctx.append(_in_process_worker)
    app.cleanup_ctx.append(_probe)
    app.on_shutdown.append(drain_sockets)
    install_routes(app, settings)
    return app


async def _probe(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    async with dependency_probe(app[READINESS_CHECKS], services.queue, services.settings.metrics.probe_interval_s):
        yield


async def _in_process_worker(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    worker = create_worker(services, JOBS, worker_class=EmbeddedWorker)
    task = asyncio.create_task(worker.start(), name="jobs-worker")
    log.info("job worker running in process", queue=services.queue.name)
    yield
    await worker.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await task
