"""The application factory: routes, middlewares, and each resource set up and torn down in order."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from redis.exceptions import RedisError

from gateway.accounts.setup import accounts_context
from gateway.client_address import client_address_middleware
from gateway.analytics.subscriber import analytics_context
from gateway.database import create_mongo_client, init_documents, ping_mongodb
from gateway.http_security import cors_middleware, security_headers
from gateway.jobs import EmbeddedWorker, create_queue, create_worker
from gateway.logs import get_logger
from gateway.metrics import http_metrics_middleware
from gateway.middleware import (
    access_log_middleware,
    compression_middleware,
    problem_middleware,
    request_id_middleware,
)
from gateway.notifications.channels import channels_context
from gateway.notifications.setup import notifications_context
from gateway.outbound_http import create_http_client
from gateway.payments.setup import payments_context
from gateway.probe import dependency_probe
from gateway.realtime import create_socketio_server, mount_socketio
from gateway.realtime.context import drain_sockets, realtime_context
from gateway.redis_client import create_redis
from gateway.security.tokens import create_token_service
from gateway.settings import Settings
from gateway.tickets.setup import tickets_context
from handlers import install_routes
from gateway.state import (
    HTTP_CLIENT,
    JOB_QUEUE,
    MAX_JSON_DEPTH,
    MONGO_CLIENT,
    READINESS_CHECKS,
    REDIS,
    SETTINGS,
    SOCKETIO,
    TOKENS,
)
from gateway.vendors import vendors_context

log = get_logger("lango.app")


# Graceful shutdown (SIGTERM/SIGINT, driven by aiohttp's run_app within server.shutdown_timeout_s):
#   1. the listening socket closes: no new connections;
#   2. app.on_shutdown hooks run in the order appended; the realtime hub appends the one that tells
#      every socket to reconnect elsewhere, so clients move before their connection drops;
#   3. requests still running get the rest of the timeout to finish;
#   4. cleanup_ctx unwinds in reverse: the probe stops, the in-process worker finishes its running jobs
#      (gateway.jobs.GracefulWorker), then the job queue, HTTP client, Redis and MongoDB close.


def create_app(settings: Settings, *, run_worker: bool | None = None) -> web.Application:
    """Build the gateway; `run_worker` overrides whether the job worker runs inside this process."""
    app = web.Application(
        client_max_size=settings.server.max_body_bytes,
        # Outermost first. CORS and metrics sit outside problem_middleware so they see the final status
        # and mark error answers too; security headers go on in on_response_prepare, which every answer passes.
        middlewares=[
            # First, so every later step (rate limits, audit, webhook source checks) reads the real client.
            client_address_middleware(settings.server.trusted_proxies),
            request_id_middleware,
            cors_middleware(settings.server.cors_origins),
            http_metrics_middleware,
            access_log_middleware,
            compression_middleware(settings.server.gzip_min_bytes),
            problem_middleware,
        ],
    )
    app[SETTINGS] = settings
    app[MAX_JSON_DEPTH] = settings.server.max_json_depth
    app[READINESS_CHECKS] = {}
    app.on_response_prepare.append(security_headers(settings.server))
    app[TOKENS] = create_token_service(settings.auth, settings.environment)
    app.cleanup_ctx.extend([_mongodb, _redis, _http_client, vendors_context, _job_queue, channels_context, accounts_context])
    # Before the worker, so payment jobs find the adapters; its background work is finished before MongoDB closes.
    app.cleanup_ctx.append(payments_context)
    if settings.runs_jobs_in_process if run_worker is None else run_worker:
        app.cleanup_ctx.append(_in_process_worker)
    app.cleanup_ctx.append(dependency_probe)
    app.cleanup_ctx.append(realtime_context)
    app.cleanup_ctx.append(tickets_context)
    app.cleanup_ctx.append(notifications_context)
    app.cleanup_ctx.append(analytics_context)
    app.on_shutdown.append(drain_sockets)
    sio = create_socketio_server(settings)
    mount_socketio(app, sio)
    app[SOCKETIO] = sio
    install_routes(app)
    return app


async def _mongodb(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    client = create_mongo_client(settings.mongodb)
    app[MONGO_CLIENT] = client
    await init_documents(client, settings.mongodb, create_indexes=False)

    async def mongodb_answers() -> None:
        await ping_mongodb(client)

    app[READINESS_CHECKS]["mongodb"] = mongodb_answers
    yield
    await client.close()


async def _redis(app: web.Application) -> AsyncIterator[None]:
    redis = create_redis(app[SETTINGS].redis)
    app[REDIS] = redis

    async def redis_answers() -> None:
        await redis.ping()

    app[READINESS_CHECKS]["redis"] = redis_answers
    yield
    await redis.aclose()


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    # Building the client loads the CA bundle (over half a second the first time): kept off the event loop.
    client = await asyncio.to_thread(create_http_client, app[SETTINGS].http)
    app[HTTP_CLIENT] = client
    yield
    await client.aclose()


async def _job_queue(app: web.Application) -> AsyncIterator[None]:
    queue = create_queue(app[SETTINGS])
    await queue.connect()
    app[JOB_QUEUE] = queue
    yield
    try:
        await queue.disconnect()
    except (RedisError, OSError) as error:
        # Shutting down while Redis is unreachable must still let the process exit cleanly.
        log.warning("job queue disconnect failed", error=str(error))


async def _in_process_worker(app: web.Application) -> AsyncIterator[None]:
    worker = create_worker(app, app[JOB_QUEUE], app[SETTINGS], worker_class=EmbeddedWorker)
    task = asyncio.create_task(worker.start(), name="jobs-worker")
    log.info("job worker running in process", queue=app[JOB_QUEUE].name)
    yield
    await worker.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await task
