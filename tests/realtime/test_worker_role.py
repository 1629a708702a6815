"""`lango worker` runs the jobs and nothing a gateway holding sockets runs: it never shows in Redis as a realtime node."""

import asyncio
import subprocess
from pathlib import Path

import aiohttp
from redis.asyncio import Redis
from saq import Queue, Status

from gateway.jobs import enqueue
from gateway.messaging.keys import RealtimeKeys
from gateway.payments.receipts import send_payment_receipt
from tests.conftest import free_port
from tests.realtime.conftest import LANGO, Cluster, eventually

START_TIMEOUT_S = 40.0


async def test_the_worker_runs_jobs_and_never_appears_as_a_realtime_node(cluster: Cluster, redis: Redis, tmp_path: Path) -> None:
    gateway = await cluster.start_node()
    metrics_port = free_port()
    env = {**cluster.env(free_port()), "LANGO_METRICS__WORKER_PORT": str(metrics_port), "LANGO_JOBS__IN_PROCESS": "false"}
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log_file:
        worker = await asyncio.to_thread(
            subprocess.Popen, [str(LANGO), "worker"], cwd=cluster.tmp_path, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    queue = Queue.from_url(cluster.redis_url, name=f"{cluster.settings.redis.namespace}:{cluster.settings.jobs.queue}")
    await queue.connect()
    try:
        await eventually(lambda: _answers(metrics_port, worker, log_path), START_TIMEOUT_S, "the worker's /metrics")
        # A receipt for a payment that does not exist: the job runs, finds nothing, and answers False.
        job = await enqueue(queue, send_payment_receipt, payment_id="665f1c2a9b1e8a0000000bad")
        assert job is not None
        await job.refresh(until_complete=START_TIMEOUT_S)
        assert (job.status, job.result) == (Status.COMPLETE, False)
        nodes = await redis.zrange(RealtimeKeys(cluster.settings.redis).nodes, 0, -1)
        assert len(nodes) == 1, f"only the gateway is a realtime node, not the worker: {nodes}"
        assert await gateway.readiness() == 200
    finally:
        await queue.disconnect()
        worker.terminate()
        await asyncio.to_thread(worker.wait, 15)


async def _answers(port: int, worker: subprocess.Popen[bytes], log_path: Path) -> bool:
    if worker.poll() is not None:
        raise AssertionError(f"the worker exited: {log_path.read_text()[-3000:]}")
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as answer:
            return answer.status == 200
    except aiohttp.ClientError:
        return False
