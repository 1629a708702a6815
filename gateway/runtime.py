"""How the gateway, the worker and migrations run: embedded servers first when needed, then the work."""

import asyncio
import sys
from collections.abc import Callable

from aiohttp import web
from pydantic import SecretStr

from gateway.composition import JOBS, open_services
from gateway.embedded import EmbeddedServerError, embedded_servers, running_embedded_urls
from gateway.http_metrics import install_metrics_route
from gateway.jobs import create_worker
from gateway.logs import configure_logging, get_logger
from gateway.migrate import migrate
from gateway.probe import dependency_probe, service_checks
from gateway.sentry import configure_sentry
from gateway.settings import Settings

log = get_logger("lango.runtime")
EXIT_EMBEDDED = 3


def run_with_servers(settings: Settings, work: Callable[[Settings], int | None], *, join_running: bool = False) -> int:
    """Run `work` with real server URLs: configured ones, or embedded child servers started (and stopped) here.
    With `join_running`, the embedded servers of a gateway already running (`make run` in another terminal) are used
    when they answer, so an operator's command reaches the database that gateway serves."""
    configure_logging(settings.logging)
    if not (settings.embedded_mongodb or settings.embedded_redis):
        return work(settings) or 0
    if join_running:
        running = running_embedded_urls(settings.embedded, mongodb=settings.embedded_mongodb, redis=settings.embedded_redis)
        if running is not None:
            return work(_with_embedded_urls(settings, running)) or 0
    try:
        with embedded_servers(
            settings.embedded, mongodb=settings.embedded_mongodb, redis=settings.embedded_redis
        ) as servers:
            for server in servers.values():
                print(f"embedded {server.name}: {server.url} (data in {server.data_path})", flush=True)
            return work(_with_embedded_urls(settings, {name: server.url for name, server in servers.items()})) or 0
    except EmbeddedServerError as error:
        print(f"lango: {error}", file=sys.stderr)
        return EXIT_EMBEDDED


def _with_embedded_urls(settings: Settings, urls: dict[str, str]) -> Settings:
    update: dict[str, object] = {
        section: getattr(settings, section).model_copy(update={"url": SecretStr(url)}) for section, url in urls.items()
    }
    # The worker runs inside the gateway whenever servers are embedded: one command runs everything.
    if settings.jobs.in_process is None:
        update["jobs"] = settings.jobs.model_copy(update={"in_process": True})
    return settings.model_copy(update=update)


def use_uvloop() -> None:
    """Run this process's event loops on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def serve(settings: Settings) -> int:
    configure_sentry(settings, component="gateway")
    if settings.environment != "production":
        use_uvloop()
        asyncio.run(migrate(settings))
    host, port, workers = settings.server.host, settings.server.port, settings.server.workers
    print(f"Lango gateway listening on http://{host}:{port} (docs at /docs)" + (f", {workers} processes" if workers > 1 else ""), flush=True)
    if workers > 1:
        from gateway.supervisor import supervise

        return supervise(settings, serve_process)
    serve_process(settings)
    return 0


def serve_process(settings: Settings) -> None:
    """One gateway process: the app on the port, shared with its siblings (SO_REUSEPORT) when there are several."""
    use_uvloop()
    if settings.server.workers > 1:  # a fresh interpreter, started by the supervisor
        configure_logging(settings.logging)
        configure_sentry(settings, component="gateway")
    from gateway.app import create_app  # here, so a worker process never loads the routes
    from gateway.serving import run_gateway

    run_gateway(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        backlog=settings.server.listen_backlog,
        reuse_port=settings.server.workers > 1,
        shutdown_timeout=settings.server.shutdown_timeout_s,
    )


def run_worker(settings: Settings) -> int:
    use_uvloop()
    configure_sentry(settings, component="worker")
    asyncio.run(_work(settings))
    return 0


async def _work(settings: Settings) -> None:
    """The worker role: Services without a realtime hub, the job catalogue, and /metrics on its own port."""
    async with open_services(settings) as services:
        checks = service_checks(services)
        async with dependency_probe(checks, services.queue, settings.metrics.probe_interval_s):
            metrics_runner = await _serve_worker_metrics(settings)
            try:
                worker = create_worker(services, JOBS)
                log.info("worker started", queue=services.queue.name)
                await worker.start()
            finally:
                if metrics_runner is not None:
                    await metrics_runner.cleanup()


async def _serve_worker_metrics(settings: Settings) -> web.AppRunner | None:
    """The worker's own /metrics (job outcomes, queue depth), since it serves no API to scrape."""
    if not settings.metrics.enabled:
        return None
    app = web.Application()
    install_metrics_route(app, settings.metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.server.host, settings.metrics.worker_port).start()
    log.info("worker metrics served", port=settings.metrics.worker_port)
    return runner
