"""The lango command: settings validation, check-config, and the embedded default's whole lifecycle."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pymongo import MongoClient

from tests.conftest import REPO, free_port

LANGO = [sys.executable, "-m", "gateway.cli"]
START_TIMEOUT_S = 90


def _clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LANGO_")}
    env.pop("MONGODB_URL", None)
    env.pop("REDIS_URL", None)
    return {**env, **extra}


def test_a_bad_setting_stops_start_up_naming_the_key() -> None:
    result = subprocess.run(
        [*LANGO, "serve"], env=_clean_env(LANGO_SERVER__PORT="abc"), cwd=REPO, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "server.port" in result.stderr and "LANGO_SERVER__PORT" in result.stderr


def test_a_secret_written_in_the_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[mongodb]\nurl = "mongodb://admin:hunter2@db/"\n')
    result = subprocess.run(
        [*LANGO, "--config", str(config), "check-config"], env=_clean_env(), cwd=REPO, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "mongodb.url" in result.stderr and "environment" in result.stderr


def test_check_config_prints_effective_settings_with_secrets_masked() -> None:
    result = subprocess.run(
        [*LANGO, "check-config"],
        env=_clean_env(MONGODB_URL="mongodb://admin:hunter2@db:27017/", LANGO_SERVER__PORT="9090"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stdout
    assert '"port": 9090' in result.stdout


def _children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    return _clean_env(
        LANGO_EMBEDDED__DATA_DIR=str(tmp_path / "var"),
        LANGO_EMBEDDED__MONGODB_PORT=str(free_port()),
        LANGO_EMBEDDED__REDIS_PORT=str(free_port()),
        LANGO_SERVER__PORT=str(free_port()),
        LANGO_LOGGING__LEVEL="WARNING",
    )


@pytest.fixture
def serve(embedded_env: dict[str, str]) -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen([*LANGO, "serve"], env=embedded_env, cwd=REPO)
        started.append(process)
        _wait_ready(process, int(embedded_env["LANGO_SERVER__PORT"]))
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "lango serve exited early"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("lango serve was not ready in time")


@pytest.mark.timeout(240)
def test_embedded_default_stops_cleanly_and_keeps_its_data(serve, embedded_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    mongo_url = f"mongodb://127.0.0.1:{embedded_env['LANGO_EMBEDDED__MONGODB_PORT']}/?directConnection=true"

    first = serve()
    children = _children_of(first.pid)
    assert len(children) == 2, "SecantusDB and redis-server run as child processes"
    with MongoClient(mongo_url) as mongo:
        mongo.lango.probe.insert_one({"_id": "kept", "value": 42})
    first.send_signal(signal.SIGINT)
    assert first.wait(60) == 0
    assert not any(_alive(child) for child in children), "no embedded server outlives the gateway"

    serve()
    with MongoClient(mongo_url) as mongo:
        assert mongo.lango.probe.find_one({"_id": "kept"}) == {"_id": "kept", "value": 42}


@pytest.mark.timeout(240)
def test_an_operator_command_reaches_the_database_of_a_running_gateway(serve, embedded_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """`make run` in one terminal, `lango admin create` in another: the command uses the gateway's embedded servers."""
    serve()
    password = "kilimanjaro sunrise over amboseli"
    made = subprocess.run(
        [*LANGO, "admin", "create", "--email", "first@example.com", "--password-stdin"],
        input=password + "\n", env=embedded_env, cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    port = embedded_env["LANGO_SERVER__PORT"]
    signed = httpx.post(f"http://127.0.0.1:{port}/v1/auth/login", json={"email": "first@example.com", "password": password})
    assert signed.status_code == 200 and signed.json()["status"] == "mfa_enrolment_required"
