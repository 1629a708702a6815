"""Background jobs on SAQ (a Redis-backed asyncio queue): the catalogue of jobs, enqueueing, and the worker."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from saq import CronJob, Job, Queue, Status, Worker
from saq.job import get_default_job_key

from gateway.metrics import JOBS_PROCESSED
from gateway.settings import Settings

JobFunction = Callable[..., Awaitable[Any]]

DEFAULT_RETRIES = 5
DEFAULT_RETRY_DELAY_S = 2.0
MAX_RETRY_DELAY_S = 300.0
# A bounded blocking dequeue, so a stopping worker's idle slots notice within this long.
IDLE_DEQUEUE_TIMEOUT_S = 1.0
# A job retried after an error goes back to the queue; what it finished as, for the metrics.
JOB_OUTCOMES = {Status.COMPLETE: "complete", Status.QUEUED: "retried", Status.FAILED: "failed", Status.ABORTED: "aborted"}


@dataclass(frozen=True)
class JobPolicy:
    retries: int = DEFAULT_RETRIES
    retry_delay_s: float = DEFAULT_RETRY_DELAY_S
    max_retry_delay_s: float = MAX_RETRY_DELAY_S
    timeout_s: int = 60


@dataclass
class JobCatalogue:
    """Jobs are declared next to the flow they serve and collected here for the worker."""

    functions: dict[str, JobFunction] = field(default_factory=dict)
    policies: dict[str, JobPolicy] = field(default_factory=dict)
    schedules: list[CronJob] = field(default_factory=list)

    def job(self, policy: JobPolicy = JobPolicy()) -> Callable[[JobFunction], JobFunction]:
        """Declare a job; SAQ calls it as `await function(ctx, **kwargs)` with ctx["app"] the application."""

        def register(function: JobFunction) -> JobFunction:
            self.functions[function.__name__] = function
            self.policies[function.__name__] = policy
            return function

        return register

    def every(self, cron: str, *, timeout_s: int = 60) -> Callable[[JobFunction], JobFunction]:
        """Declare a periodic job, run once per cron tick across all workers."""

        def register(function: JobFunction) -> JobFunction:
            self.schedules.append(CronJob(function, cron=cron, timeout=timeout_s, unique=True))
            return function

        return register


JOBS = JobCatalogue()


def create_queue(settings: Settings) -> Queue:
    """A queue with its own Redis connections: SAQ's blocking dequeue must not hold the shared pool."""
    if settings.redis.url is None:
        raise ValueError("redis.url is not set")
    return Queue.from_url(settings.redis.url.get_secret_value(), name=f"{settings.redis.namespace}:{settings.jobs.queue}")


async def enqueue(queue: Queue, function: JobFunction, *, key: str | None = None, at: float = 0, **kwargs: Any) -> Job | None:
    """Queue `function(**kwargs)` with its declared retry policy; `key` makes it unique, `at` delays it (epoch s)."""
    name = function.__name__
    policy = JOBS.policies.get(name)
    if policy is None:
        raise LookupError(f"{name} is not a declared job")
    # Without a key each job gets SAQ's own random one: an empty key would make every unkeyed job one job.
    job = Job(
        function=name,
        kwargs=kwargs,
        key=key or get_default_job_key(),
        scheduled=int(at),
        retries=policy.retries,
        retry_delay=policy.retry_delay_s,
        retry_backoff=policy.max_retry_delay_s,
        timeout=policy.timeout_s,
    )
    return await queue.enqueue(job)


async def abort_job(queue: Queue, key: str) -> None:
    """Cancel a queued or scheduled job by its key; a job already finished is left alone."""
    job = await queue.job(key)
    if job is not None and not job.completed:
        await queue.abort(job, "cancelled")


class GracefulWorker(Worker):
    """A worker whose stop lets running jobs finish (up to `grace_s`) instead of cancelling them at once."""

    def __init__(self, *args: Any, grace_s: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.grace_s = grace_s

    async def stop(self) -> None:
        # With the event set no new dequeue starts; idle dequeues return within IDLE_DEQUEUE_TIMEOUT_S.
        self.event.set()
        processing = [task for task in self.tasks if task.get_name() == "process" and not task.done()]
        if processing and self.grace_s > 0:
            await asyncio.wait(processing, timeout=self.grace_s)
        await super().stop()


class EmbeddedWorker(GracefulWorker):
    """A worker that lives inside the gateway process: the gateway, not SAQ, owns the signals."""

    SIGNALS: list[Any] = []


def create_worker(
    app: web.Application,
    queue: Queue,
    settings: Settings,
    worker_class: type[GracefulWorker] = GracefulWorker,
    catalogue: JobCatalogue = JOBS,
) -> Worker:
    async def remember_app(ctx: dict[str, Any]) -> None:
        ctx["app"] = app

    return worker_class(
        queue,
        functions=list(catalogue.functions.values()),
        cron_jobs=catalogue.schedules,
        concurrency=settings.jobs.concurrency,
        startup=remember_app,
        after_process=count_job_outcome,
        dequeue_timeout=IDLE_DEQUEUE_TIMEOUT_S,
        grace_s=settings.server.shutdown_timeout_s,
    )


async def count_job_outcome(ctx: dict[str, Any]) -> None:
    job: Job = ctx["job"]
    JOBS_PROCESSED.labels(job.function, JOB_OUTCOMES.get(job.status, job.status.value)).inc()


async def queue_depth(queue: Queue) -> int:
    """Jobs waiting to run now plus those scheduled for later."""
    return await queue.count("incomplete")
