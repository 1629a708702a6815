"""`lango serve --workers 2` on a real port: both processes answer, /metrics counts every answer, a killed process
is replaced, and SIGTERM stops them all."""

import asyncio
import json
import os
import pickle
import signal
import socket
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.mmap_dict import MmapedDict

from gateway.security.tokens import TokenInvalid, create_token_service
from gateway.settings import Settings
from gateway.supervisor import with_shared_secrets
from gateway.vendors.adapters import create_store
from providers.errors import SignatureInvalid
from providers.storage.local import LocalObjectStore
from tests.conftest import make_settings
from tests.realtime.conftest import Cluster, GatewayNode, eventually

REQUESTS = 20
ROUTE = "/healthz"


def answered_by_process(metrics_dir: Path) -> Counter[int]:
    """How many requests to ROUTE each process answered, read from the files each one writes its metrics to."""
    answered: Counter[int] = Counter()
    for path in metrics_dir.glob("histogram_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            _, sample, labels, _ = json.loads(key)
            if sample == "lango_http_request_duration_seconds_bucket" and labels.get("route") == ROUTE:
                answered[pid] += int(value)
    return answered


def gateway_processes(supervisor_pid: int) -> set[int]:
    """The supervisor's children that run a gateway (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{supervisor_pid}/task/{supervisor_pid}/children").read_text().split()
    return {int(pid) for pid in children if "spawn_main" in _command_line(int(pid))}


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except FileNotFoundError:
        return ""


async def ask_many(node: GatewayNode) -> None:
    # A new connection for each: the kernel picks the process per connection.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        for _ in range(REQUESTS):
            async with http.get(f"{node.url}{ROUTE}") as answer:
                assert answer.status == 200


async def counted_in_metrics(node: GatewayNode) -> int:
    async with aiohttp.ClientSession() as http, http.get(f"{node.url}/metrics") as answer:
        exposition = await answer.text()
    prefix = 'lango_http_request_duration_seconds_count{method="GET",route="/healthz",status_class="2xx"} '
    return sum(int(float(line.removeprefix(prefix))) for line in exposition.splitlines() if line.startswith(prefix))


def nobody_listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.timeout(240)
async def test_two_processes_share_the_port_count_together_and_stop_together(cluster: Cluster, tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    cluster.extra_env.update(LANGO_SERVER__WORKERS="2", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    node = await cluster.start_node()
    supervisor = node.process.pid
    first = await eventually(lambda: len(gateway_processes(supervisor)) == 2 and gateway_processes(supervisor), 20, "two processes")

    # The first process to listen takes every connection until the other listens too.
    asked = 0

    async def both_answered() -> bool:
        nonlocal asked
        await ask_many(node)
        asked += REQUESTS
        return set(answered_by_process(metrics_dir)) == first

    await eventually(both_answered, 60, "both processes to answer")
    assert sum(answered_by_process(metrics_dir).values()) == asked
    assert await counted_in_metrics(node) == asked

    killed = next(iter(first))
    os.kill(killed, signal.SIGKILL)
    replaced = await eventually(
        lambda: (now := gateway_processes(supervisor)) and len(now) == 2 and killed not in now and now, 30, "a new process"
    )
    await cluster.wait_ready(node)

    async def new_one_answered() -> bool:
        nonlocal asked
        await ask_many(node)
        asked += REQUESTS
        return (replaced - first) <= set(answered_by_process(metrics_dir))

    await eventually(new_one_answered, 60, "the new process to answer")
    # Every answer is still counted, the dead process's among them.
    assert await counted_in_metrics(node) == asked

    node.process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(node.process.wait, 30) == 0
    assert not any(_command_line(pid) for pid in replaced), "a gateway process outlived the supervisor"
    assert await asyncio.to_thread(nobody_listens, node.port)


async def _accepted_by_another_process(settings: Settings) -> tuple[bool, bool]:
    """Whether a token and an upload form signed in one process (started from `settings`) pass in another."""
    first, second = (pickle.loads(pickle.dumps(settings)) for _ in range(2))  # as spawn hands them over
    token = create_token_service(first.auth, first.environment).issue_access("u1", ["guest"], "s1")
    try:
        token_passes = create_token_service(second.auth, second.environment).verify_access(token).user_id == "u1"
    except TokenInvalid:
        token_passes = False
    upload = await create_store(first).presign_upload("listings/p1/photo.jpg", "image/jpeg", 1_000_000, 600)
    store = create_store(second)
    assert isinstance(store, LocalObjectStore)
    try:
        store.verify_upload_signature(upload.fields)
    except SignatureInvalid:
        return token_passes, False
    return token_passes, True


async def test_processes_left_without_a_signing_key_or_link_secret_share_the_ones_the_supervisor_makes(
    tmp_path: Path,
) -> None:
    settings = make_settings("mongodb://127.0.0.1:9", "redis://127.0.0.1:9", server={"workers": 2},
                             storage={"provider": "local", "local": {"root": str(tmp_path)}})  # fmt: skip
    assert settings.auth.signing_keys is None and settings.storage.local.signing_secret is None
    assert await _accepted_by_another_process(settings) == (False, False)

    assert await _accepted_by_another_process(with_shared_secrets(settings)) == (True, True)
