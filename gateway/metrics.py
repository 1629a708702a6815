"""Every Prometheus metric the gateway and the worker export, declared once, and their text exposition."""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUEST_DURATION = Histogram(
    "lango_http_request_duration_seconds",
    "HTTP answer latency by route template, method and status class (2xx, 4xx, ...).",
    ["method", "route", "status_class"],
    buckets=LATENCY_BUCKETS_S,
)
HTTP_REQUESTS_IN_FLIGHT = Gauge(
    "lango_http_requests_in_flight", "HTTP requests being handled now.", multiprocess_mode="livesum"
)
SOCKETS_CONNECTED = Gauge(
    "lango_sockets_connected", "Socket.IO connections open on this node.", multiprocess_mode="livesum"
)
EVENTS_PUBLISHED = Counter("lango_events_published", "Domain events published on the bus, by type.", ["type"])
EVENTS_DELIVERED = Counter(
    "lango_events_delivered", "Events handed to a client, by channel (socket or push).", ["channel"]
)
EVENTS_RECOVERED = Counter("lango_events_recovered", "Missed events replayed to reconnecting clients.")
PUSHES_SENT = Counter("lango_pushes_sent", "Push notifications attempted, by outcome (sent, failed, no_device).", ["outcome"])
PAYMENTS = Counter(
    "lango_payments", "Payments settled, by provider and outcome (succeeded, failed, cancelled, ...).", ["provider", "outcome"]
)
JOB_QUEUE_DEPTH = Gauge(
    "lango_job_queue_depth", "Jobs waiting or scheduled, read by the periodic probe.", ["queue"], multiprocess_mode="livemax"
)
JOBS_PROCESSED = Counter(
    "lango_jobs_processed", "Job attempts finished, by function and outcome (complete, retried, failed, aborted).",
    ["function", "outcome"],
)
DEPENDENCY_UP = Gauge(
    "lango_dependency_up", "1 when the readiness check of a dependency passed at the last probe, else 0.",
    ["dependency"], multiprocess_mode="livemin",
)
DEPENDENCY_LATENCY = Histogram(
    "lango_dependency_latency_seconds", "Round-trip time of each readiness check (MongoDB ping, Redis PING, ...).",
    ["dependency"], buckets=LATENCY_BUCKETS_S,
)


def render_metrics() -> tuple[bytes, str]:
    """The text exposition: this process's metrics, or every process's when multiprocess mode is on."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def count_push(devices_reached: int) -> None:
    """One push the vendor answered: sent when any of the user's devices took it, else failed."""
    PUSHES_SENT.labels("sent" if devices_reached else "failed").inc()
