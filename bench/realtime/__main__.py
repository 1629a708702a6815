"""`python -m bench.realtime`: N sockets on one gateway, targeted events at fixed rates through the bus, then a broadcast,
then every socket leaving at once; the same workload on the Node.js reference (socket.io + @socket.io/redis-adapter);
figures side by side.

Starts its own Redis and SecantusDB (or uses REDIS_URL / MONGODB_URL), installs the Node packages into
bench/realtime/node_modules, and binds everything to 127.0.0.1."""

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp
from redis.asyncio import Redis

from gateway.crypto.signing_keys import new_signing_key, parse_key_ring
from gateway.embedded import start_redis, start_secantusdb, wait_until_answers
from gateway.messaging import BROADCAST, MessageBus, Outgoing, user_room
from gateway.realtime.heap import freeze_startup_heap
from gateway.runtime import use_uvloop
from gateway.security.tokens import TokenService
from gateway.settings import EmbeddedSettings, load_settings
from tests.served import wait_until_ready

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LANGO = REPO / ".venv" / "bin" / "lango"
RESULTS = REPO / "bench" / "results"
# The issue's wording asks for the rate at p99 < 100 ms; the target on one process is the rate at p99 < 50 ms.
P99_BUDGETS_MS = (100.0, 50.0)
STOP_AFTER_P99_MS = 400.0
DRAIN_TIMEOUT_S = 10.0
DISCONNECT_TIMEOUT_S = 120.0
# The load client's young generation, large enough that a step's short-lived event objects die there: with V8's
# default, enough of them reached the old generation that its collection over 10,000 sockets' objects (a 0.15-1 s
# stall of the client's loop) landed inside a measured step, and showed as that server's latency.
LOAD_CLIENT_NODE_FLAGS = ("--max-semi-space-size=64",)


@dataclass
class Figures:
    target: str
    sockets: int
    nodes: int
    connected: int = 0
    connect_s: float = 0.0
    # The servers' CPU time over the connect storm, per socket: steadier than its wall time on a shared machine.
    connect_cpu_us: float = 0.0
    kib_per_socket: float = 0.0
    steps: list[dict[str, Any]] = field(default_factory=list)
    broadcast_ms: float | None = None
    disconnect_all_s: float | None = None

    def sustained(self, p99_budget_ms: float) -> dict[str, Any] | None:
        """The step that delivered the most events a second, measured at the sockets, without loss at p99 under budget."""
        good = [step for step in self.steps if _held(step, p99_budget_ms)]
        return max(good, key=lambda step: step["received_per_s"], default=None)

    def held_up_to(self, p99_budget_ms: float) -> int:
        """Events a second received at the last step before the first that failed: on a shared machine, where a
        stall of a few hundred milliseconds can fail any one step, steadier than the best step alone."""
        held = 0
        for step in sorted(self.steps, key=lambda step: step["rate"]):
            if not _held(step, p99_budget_ms):
                break
            held = step["received_per_s"]
        return held


def _held(step: dict[str, Any], p99_budget_ms: float) -> bool:
    return step["lost"] == 0 and step["p99"] is not None and step["p99"] < p99_budget_ms


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_s(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class NodeScript:
    """A Node script of this bench, spoken to over its stdin and stdout: one command a line, one JSON line back."""

    def __init__(self, script: str, env: dict[str, str], node_flags: tuple[str, ...] = ()) -> None:
        self.process = subprocess.Popen(
            ["node", *node_flags, str(HERE / script)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, **env}, text=True,
        )  # fmt: skip

    async def read(self) -> dict[str, Any]:
        line = await asyncio.to_thread(self.process.stdout.readline)  # type: ignore[union-attr]
        if not line:
            raise RuntimeError(f"{self.process.args[1]} exited")
        return json.loads(line)

    async def ask(self, command: str) -> dict[str, Any]:
        self.process.stdin.write(command + "\n")  # type: ignore[union-attr]
        self.process.stdin.flush()  # type: ignore[union-attr]
        return await self.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")  # type: ignore[union-attr]
            self.process.stdin.flush()  # type: ignore[union-attr]
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def load_client(urls: list[str], tokens_file: Path) -> NodeScript:
    """The load client spreads its sockets over the servers in turn; its first line reports the connect burst."""
    env = {"TARGET_URLS": ",".join(urls), "TOKENS_FILE": str(tokens_file)}
    return NodeScript("load_client.js", env, node_flags=LOAD_CLIENT_NODE_FLAGS)


async def wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout}s")


class Bench:
    def __init__(
        self, arguments: argparse.Namespace, redis_url: str, redis_pid: int | None, mongodb_url: str, workdir: Path
    ) -> None:
        self.arguments = arguments
        self.redis_url = redis_url
        self.redis_pid = redis_pid
        self.mongodb_url = mongodb_url
        self.workdir = workdir
        self.keys = json.dumps({"keys": [new_signing_key()]})

    def lango_env(self, port: int, database: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("LANGO_")}
        env.update(
            MONGODB_URL=self.mongodb_url,
            REDIS_URL=self.redis_url,
            LANGO_ENVIRONMENT="test",
            LANGO_MONGODB__DATABASE=database,
            LANGO_REDIS__NAMESPACE="bench",
            LANGO_AUTH__SIGNING_KEYS=self.keys,
            LANGO_SERVER__PORT=str(port),
            LANGO_JOBS__IN_PROCESS="false",
            LANGO_LOGGING__LEVEL="INFO",
            # Every socket of the load client comes from 127.0.0.1: the per-address limits would refuse most.
            LANGO_REALTIME__MAX_SOCKETS_PER_ADDRESS="1000000",
            LANGO_REALTIME__CONNECTS_PER_ADDRESS="1000000/minute",
        )
        env.update(dict(pair.split("=", 1) for pair in self.arguments.lango_env))
        return env

    def tokens(self, target: str, sockets: int) -> Path:
        if target in ("lango", "node-jwt"):
            service = TokenService(parse_key_ring(self.keys), issuer="lango", access_ttl=_HOUR, challenge_ttl=_HOUR)
            tokens = [service.issue_access(f"u{user}", ["guest"], f"s{user}") for user in range(sockets)]
        else:
            tokens = [f"u{user}" for user in range(sockets)]
        path = self.workdir / f"tokens-{target}-{sockets}.json"
        path.write_text(json.dumps(tokens))
        return path

    async def start_servers(
        self, target: str, servers: list[subprocess.Popen[bytes]], log: IO[bytes], log_path: Path
    ) -> list[str]:
        """Start the run's gateway nodes (or reference servers), sharing Redis, into `servers`; answer their URLs."""
        ports = [free_port() for _ in range(self.arguments.nodes)]
        # A fresh database per run, shared by its nodes: each start migrates; the run measures sockets.
        database = f"lango_bench_{ports[0]}"
        for port in ports:
            if target == "lango":
                servers.append(subprocess.Popen(
                    [str(LANGO), "serve"], env=self.lango_env(port, database), stdout=log, stderr=log, cwd=REPO
                ))  # fmt: skip
                await wait_until_ready(f"http://127.0.0.1:{port}", 60, servers[-1], log_path)
            else:
                env = {**os.environ, "PORT": str(port), "REDIS_URL": self.redis_url}
                if target == "node-jwt":
                    # The reference checks Lango's access tokens as a Node gateway would: EdDSA, issuer, audience, expiry.
                    env["VERIFY_KEYS"] = json.dumps(parse_key_ring(self.keys).jwks())
                servers.append(subprocess.Popen(["node", str(HERE / "reference_server.js")], env=env, stdout=log, stderr=log))
                await wait_port(port, 30)
        return [f"http://127.0.0.1:{port}" for port in ports]

    async def run(self, target: str, sockets: int) -> Figures:
        figures = Figures(target, sockets, self.arguments.nodes)
        redis = Redis.from_url(self.redis_url)
        await redis.flushdb()
        log_path = RESULTS / f"{target}-{sockets}.log"
        log = log_path.open("wb")
        servers: list[subprocess.Popen[bytes]] = []
        client = publisher = None
        try:
            urls = await self.start_servers(target, servers, log, log_path)
            before = sum(rss_kib(server.pid) for server in servers)
            tokens = self.tokens(target, sockets)
            cpu_before = sum(cpu_s(server.pid) for server in servers)
            client = load_client(urls, tokens)
            hello = await client.read()
            figures.connected, figures.connect_s = hello["connected"], hello["connect_s"]
            figures.connect_cpu_us = (sum(cpu_s(server.pid) for server in servers) - cpu_before) * 1e6 / max(1, figures.connected)
            # The load client's share: the storm's wall time is both sides' CPU on two shared cores.
            client_cpu_us = cpu_s(client.process.pid) * 1e6 / max(1, figures.connected)
            print(f"  {target:5} {sockets:>6} sockets  connected in {figures.connect_s:.1f} s, CPU per socket: "
                  f"server {figures.connect_cpu_us:.0f} us, load client {client_cpu_us:.0f} us", flush=True)
            await asyncio.sleep(2)  # let the servers' allocations settle before reading their memory
            after = sum(rss_kib(server.pid) for server in servers)
            figures.kib_per_socket = (after - before) / max(1, figures.connected)
            publisher = await start_publisher(target, redis, self.redis_url)
            processes = {"server": [server.pid for server in servers], "publisher": [publisher.pid],
                         "redis": [self.redis_pid] if self.redis_pid else [], "client": [client.process.pid]}  # fmt: skip
            # One unreported step first: whatever warms up (code paths, pools, caches) does so outside the figures.
            await self.step(publisher, client, processes, sockets, self.arguments.rates[0], self.arguments.warmup)
            for rate in self.arguments.rates:
                step = await self.step(publisher, client, processes, sockets, rate, self.arguments.seconds)
                figures.steps.append(step)
                print(f"  {target:5} {sockets:>6} sockets  {rate:>6}/s  {json.dumps(step)}", flush=True)
                if step["lost"] or step["p99"] is None or step["p99"] > STOP_AFTER_P99_MS:
                    break
            figures.broadcast_ms = await self.broadcast(publisher, client, figures.connected)
            figures.disconnect_all_s = await disconnect_all(target, client, urls)
        finally:
            if client is not None:
                client.stop()
            if publisher is not None:
                await publisher.close()
            for server in servers:
                server.terminate()
            for server in servers:
                try:
                    await asyncio.to_thread(server.wait, 30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            log.close()
            await redis.aclose()
        return figures

    async def step(
        self,
        publisher: "Publisher",
        client: NodeScript,
        processes: dict[str, list[int]],
        sockets: int,
        rate: int,
        seconds: float,
    ) -> dict[str, Any]:
        await client.ask("reset")
        cpu_before = {role: sum(map(cpu_s, pids)) for role, pids in processes.items()}
        started = time.monotonic()
        sent = await publisher.at_rate(sockets, rate, seconds)
        achieved = sent / (time.monotonic() - started)
        report = await drained(client, sent)
        # Where the machine's time went, per event: the two cores are shared by all four.
        cpu_us = {role: round((sum(map(cpu_s, pids)) - cpu_before[role]) * 1e6 / max(1, report["received"]), 1)
                  for role, pids in processes.items() if pids}  # fmt: skip
        return {"rate": rate, "sent": sent, "achieved": round(achieved), "received": report["received"],
                "received_per_s": round(report["per_s"] or 0), "lost": sent - report["received"],
                **{k: _ms(report[k]) for k in ("p50", "p95", "p99", "max")}, "cpu_us_per_event": cpu_us,
                "stalls": report["stalls"], "client_stalls": report["client_stalls"]}  # fmt: skip

    async def broadcast(self, publisher: "Publisher", client: NodeScript, sockets: int) -> float | None:
        await client.ask("reset")
        await publisher.broadcast()
        report = await drained(client, sockets)
        return _ms(report["max"]) if report["received"] == sockets else None


async def open_sockets(http: aiohttp.ClientSession, target: str, urls: list[str]) -> int:
    """Sockets the servers hold: Lango's own gauge from /metrics, the reference's count from its /sockets."""
    total = 0
    for url in urls:
        async with http.get(f"{url}/metrics" if target == "lango" else f"{url}/sockets") as answer:
            text = await answer.text()
        if target == "lango":
            text = next(line for line in text.splitlines() if line.startswith("lango_sockets_connected ")).split()[1]
        total += int(float(text))
    return total


async def disconnect_all(target: str, client: NodeScript, urls: list[str]) -> float | None:
    """Seconds from every socket leaving at once until the servers have let the last one go (None: not within
    DISCONNECT_TIMEOUT_S)."""
    started = time.monotonic()
    await client.ask("close")
    async with aiohttp.ClientSession() as http:
        while await open_sockets(http, target, urls):
            if time.monotonic() - started > DISCONNECT_TIMEOUT_S:
                return None
            await asyncio.sleep(0.1)
    return round(time.monotonic() - started, 2)


async def drained(client: NodeScript, expected: int) -> dict[str, Any]:
    """Ask for the figures until everything arrived or nothing more comes."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    report = await client.ask("report")
    while report["received"] < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        report = await client.ask("report")
    return report


class LangoPublisher:
    """Publishes through the bus from this process, as `lango worker` does: on uvloop, start-up heap frozen."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.pid = os.getpid()

    @classmethod
    async def start(cls, redis: Redis, redis_url: str) -> "LangoPublisher":
        settings = load_settings(REPO / "config.toml", redis={"url": redis_url, "namespace": "bench"})
        freeze_startup_heap(settings)
        return cls(MessageBus(redis, settings))

    async def at_rate(self, users: int, rate: int, seconds: float) -> int:
        """Publish `rate` events a second to random users for `seconds`; answer how many were taken.

        Each tick's events go out in one `publish_many`, as the reference emitter writes a tick's events in one
        loop: a task and an await per event cost this process twice the CPU, taken from the server it measures."""
        total = int(rate * seconds)
        started = time.monotonic()
        published = 0

        async def publish_tick(numbers: range) -> None:
            nonlocal published
            sent_at = time.time() * 1000
            events = [
                Outgoing(user_room(f"u{random.randrange(users)}"), "booking.updated", {"sent_at": sent_at, "n": n})
                for n in numbers
            ]
            taken = await self.bus.publish_many(events)
            published += len(taken)

        # Only unfinished ticks are held: keeping a step's finished tasks made this process's own collector
        # passes long enough to show up as delivery latency.
        pending: set[asyncio.Task[None]] = set()
        scheduled = 0
        while scheduled < total:
            due = min(total, int((time.monotonic() - started) * rate) + 1)
            task = asyncio.create_task(publish_tick(range(scheduled, due)))
            pending.add(task)
            task.add_done_callback(pending.discard)
            scheduled = due
            await asyncio.sleep(0.002)
        while pending:
            await asyncio.gather(*pending)
        return published

    async def broadcast(self) -> None:
        await self.bus.publish(BROADCAST, "notice.posted", {"sent_at": time.time() * 1000})

    async def close(self) -> None:
        await self.bus.close()


class ReferenceEmitter:
    """The reference's publisher: @socket.io/redis-emitter in one Node process for the whole run."""

    def __init__(self, script: NodeScript) -> None:
        self.script = script
        self.pid = script.process.pid

    async def close(self) -> None:
        self.script.stop()

    @classmethod
    async def start(cls, redis_url: str) -> "ReferenceEmitter":
        script = NodeScript("reference_emitter.js", {"REDIS_URL": redis_url})
        await script.read()
        return cls(script)

    async def at_rate(self, users: int, rate: int, seconds: float) -> int:
        return int((await self.script.ask(f"emit {users} {rate} {seconds}"))["sent"])

    async def broadcast(self) -> None:
        await self.script.ask("broadcast")


Publisher = LangoPublisher | ReferenceEmitter


async def start_publisher(target: str, redis: Redis, redis_url: str) -> Publisher:
    return await (LangoPublisher.start(redis, redis_url) if target == "lango" else ReferenceEmitter.start(redis_url))


async def _redis_server(redis_url: str, own: bool) -> tuple[int | None, str]:
    """The Redis server's pid when it runs on this machine (for its CPU figures), and its version.

    The bench's own Redis keeps nothing on disk: a snapshot forks it every minute, and on two shared cores that
    lands in whichever step it meets, heavier for the target that keeps more (Lango's event history)."""
    redis = Redis.from_url(redis_url)
    if own:
        await redis.config_set("save", "")
        await redis.config_set("appendonly", "no")
    info = await redis.info("server")
    await redis.aclose()
    command = Path(f"/proc/{info['process_id']}/comm")
    local = command.exists() and command.read_text().startswith("redis-server")
    return (int(info["process_id"]) if local else None), str(info["redis_version"])


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def print_table(results: list[Figures]) -> None:
    """Sustained rates are events a second as received by the sockets, so a publisher that falls behind shows."""
    budgets = " | ".join(
        f"sustained/s (p99<{budget:.0f}ms, no loss) | p50/p95/p99 ms there | every step held up to /s"
        for budget in P99_BUDGETS_MS
    )
    print(f"\n| server | nodes | sockets | connected | connect s | server CPU us/connect | KiB/socket | {budgets} | broadcast to all ms | all leave s |")
    print("|---|---|---|---|---|---|---|" + "---|---|---|" * len(P99_BUDGETS_MS) + "---|---|")
    for figures in results:
        cells = []
        for budget in P99_BUDGETS_MS:
            best = figures.sustained(budget)
            cells += [f"{best['received_per_s']:,}", f"{best['p50']}/{best['p95']}/{best['p99']}"] if best else ["0", "-"]
            cells.append(f"{figures.held_up_to(budget):,}")
        print(f"| {figures.target} | {figures.nodes} | {figures.sockets:,} | {figures.connected:,} | {figures.connect_s:.1f} | {figures.connect_cpu_us:.0f} | "
              f"{figures.kib_per_socket:.1f} | {' | '.join(cells)} | {figures.broadcast_ms} | {figures.disconnect_all_s} |")  # fmt: skip
    print("\nCPU per event received (us), each rate step: server / publisher / Redis / load client")
    for figures in results:
        for step in figures.steps:
            cpu = step["cpu_us_per_event"]
            shares = " / ".join(str(cpu.get(role, "-")) for role in ("server", "publisher", "redis", "client"))
            print(f"  {figures.target:5} {figures.sockets:>6} sockets {step['rate']:>6}/s: {shares}")


def install_node_packages() -> None:
    if not (HERE / "node_modules" / "socket.io").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)


_HOUR = __import__("datetime").timedelta(hours=1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.realtime", description=__doc__)
    parser.add_argument("--sockets", default="1000,5000,10000", help="socket counts, comma-separated")
    parser.add_argument(
        "--rates", default="2000,4000,8000,12000,16000,20000,24000,28000,32000", help="targeted events/s to try"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=5.0,
        help="duration of each rate step; 15 s or more for a sustained rate (a shorter step catches a periodic pause"
        " only by chance)",
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of an unreported step at the first rate")
    parser.add_argument(
        "--targets",
        default="lango,node",
        help="servers to measure, comma-separated: lango, node (the Node.js reference, trusting any token), node-jwt"
        " (the reference checking Lango's EdDSA access tokens, as Lango does)",
    )
    parser.add_argument("--nodes", type=int, default=1, choices=(1, 2), help="server processes sharing Redis, per target")
    parser.add_argument("--lango-env", action="append", default=[], metavar="KEY=VALUE", help="extra gateway setting")
    arguments = parser.parse_args()
    arguments.rates = [int(rate) for rate in arguments.rates.split(",")]
    if unknown := set(arguments.targets.split(",")) - {"lango", "node", "node-jwt"}:
        parser.error(f"unknown target {', '.join(sorted(unknown))}: choose among lango, node, node-jwt, comma-separated")
    install_node_packages()
    use_uvloop()  # the bench publishes as a worker does, and `lango worker` runs on uvloop
    RESULTS.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="lango-bench-") as workdir:
        redis_url, mongodb_url = os.environ.get("REDIS_URL"), os.environ.get("MONGODB_URL")
        own_redis = not redis_url
        if not redis_url:
            server = start_redis(EmbeddedSettings(), port=free_port(), data_dir=Path(workdir))
            stack.callback(server.stop)
            wait_until_answers(server, 30)
            redis_url = server.url
        redis_pid, redis_version = asyncio.run(_redis_server(redis_url, own_redis))
        if not mongodb_url:
            server = start_secantusdb(EmbeddedSettings(), port=free_port(), data_dir=Path(workdir))
            stack.callback(server.stop)
            wait_until_answers(server, 60)
            mongodb_url = server.url
        bench = Bench(arguments, redis_url, redis_pid, mongodb_url, Path(workdir))
        results = []
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, node {_node_version()}, "
              f"Redis {redis_version}", flush=True)  # fmt: skip
        for sockets in (int(count) for count in arguments.sockets.split(",")):
            for target in arguments.targets.split(","):
                results.append(asyncio.run(bench.run(target, sockets)))
        print_table(results)
        (RESULTS / f"realtime-{int(time.time())}.json").write_text(json.dumps([vars(r) for r in results], indent=2))


def _node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    main()
