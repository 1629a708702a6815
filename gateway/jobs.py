"""Background jobs on SAQ (a Redis-backed asyncio queue): the catalogue of jobs, enqueueing, and the worker."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from saq import CronJob, Job, Queue, Status, Worker
from saq.job import get_default_job_key
from saq.types import QueueInfo

from gateway.metrics import JOBS_PROCESSED
from gateway.services import Services
from gateway.settings import Settings

JobFunction = Callable[..., Awaitable[Any]]

DEFAULT_RETRIES = 5
DEFAULT_RETRY_DELAY_S = 2.0
MAX_RETRY_DELAY_S = 300.0
# A bounded blocking dequeue, so a stopping worker's idle slots notice within this long.
IDLE_DEQUEUE_TIMEOUT_S = 1.0
# A job retried after an error goes back to the queue; what it finished as, for the metrics.
JOB_OUTCOMES = {
    Status.COMPLETE: "complete",
    Status.QUEUED: "retried",
    Status.FAILED: "failed",
    Status.ABORTED: "aborted",
}


@dataclass(frozen=True)
class JobPolicy:
    retries: int = DEFAULT_RETRIES
    retry_delay_s: float = DEFAULT_RETRY_DELAY_S
    max_retry_delay_s: float = MAX_RETRY_DELAY_S
    timeout_s: int = 60


_POLICY = "job_policy"
_SCHEDULE = "job_schedule"


def job(policy: JobPolicy = JobPolicy()) -> Callable[[JobFunction], JobFunction]:
    """Mark a function as a job with its retry policy. SAQ calls it as `await function(ctx, **kwargs)`, with
    ctx["services"] the process's Services; gateway.composition lists the jobs a worker runs."""

    def mark(function: JobFunction) -> JobFunction:
        setattr(function, _POLICY, policy)
        return function

    return mark


def every(cron: str, *, timeout_s: int = 60) -> Callable[[JobFunction], JobFunction]:
    """Mark a function as a periodic job, run once per cron tick across all workers."""

    def mark(function: JobFunction) -> JobFunction:
        setattr(function, _SCHEDULE, CronJob(function, cron=cron, timeout=timeout_s, unique=True))
        return function

    return mark


@dataclass(frozen=True)
class JobCatalogue:
    """The jobs and periodic jobs a worker runs, as gateway.composition lists them."""

    jobs: tuple[JobFunction, ...]
    periodic: tuple[JobFunction, ...]

    def __post_init__(self) -> None:
        unmarked = [f.__name__ for f in self.jobs if not hasattr(f, _POLICY)]
        unmarked += [f.__name__ for f in self.periodic if not hasattr(f, _SCHEDULE)]
        if unmarked:
            raise ValueError(f"not marked with @job or @every: {', '.join(unmarked)}")

    @property
    def schedules(self) -> list[CronJob]:
        return [getattr(function, _SCHEDULE) for function in self.periodic]


def create_queue(settings: Settings) -> Queue:
    """A queue with its own Redis connections: SAQ's blocking dequeue must not hold the shared pool.

    It runs on `jobs.redis_url` when set, else on `redis.url`. SAQ (0.26) does not run on a Redis Cluster, even
    with a hash-tagged queue name: its enqueue script names the job's abort key `saq:abort:<job key>`, which holds
    no queue name and so falls in another slot than the queue's lists (the cluster refuses the call), its
    disconnect closes a single server's connection pool, and its job updates go out by classic PUBLISH, which a
    cluster copies to every node. So a deployment on a cluster gives the queue a single Redis of its own."""
    url = settings.jobs.redis_url or settings.redis.url
    if url is None:
        raise ValueError("redis.url is not set")
    return Queue.from_url(url.get_secret_value(), name=f"{settings.redis.namespace}:{settings.jobs.queue}")


async def enqueue(
    queue: Queue, function: JobFunction, *, key: str | None = None, at: float = 0, **kwargs: Any
) -> Job | None:
    """Queue `function(**kwargs)` with its declared retry policy; `key` makes it unique, `at` delays it (epoch s)."""
    name = function.__name__
    policy: JobPolicy | None = getattr(function, _POLICY, None)
    if policy is None:
        raise LookupError(f"{name} is not marked as a job")
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
    services: Services, catalogue: JobCatalogue, worker_class: type[GracefulWorker] = GracefulWorker
) -> Worker:
    async def hand_services(ctx: dict[str, Any]) -> None:
        ctx["services"] = services

    settings = services.settings
    return worker_class(
        services.queue,
        functions=list(catalogue.jobs),
        cron_jobs=catalogue.schedules,
        concurrency=settings.jobs.concurrency,
        startup=hand_services,
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


async def queue_health(queue: Queue, recent: int = 20) -> QueueInfo:
    """What admins read about the job queue: its workers and their counts, jobs queued, active and scheduled, and the
    most recent jobs with their status, attempts and error."""
    info = await queue.info(jobs=True, limit=recent)
    # Jobs as plain values: their status by its name, no attempts yet as 0.
    info["jobs"] = [
        {"function": job.get("function"), "status": Status(job.get("status")).value if job.get("status") else "",
         "attempts": job.get("attempts") or 0, "error": job.get("error")}
        for job in info["jobs"]
    ]  # fmt: skip
    return info
