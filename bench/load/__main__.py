"""`python -m bench.load`: seed listings and guests into a running `make run` gateway's database, drive the guest
journey with Locust for a bounded time, and print requests/s, failures and p50/p95/p99 per step.

Run it with the same LANGO_* environment as the gateway (it reads the database location from the settings). Every
simulated guest books and pays every few seconds, all from the loopback: start the gateway with the limits that
would refuse that raised (LOAD_LIMITS below).
Locust runs as a child process: its gevent patching stays out of this one."""

import argparse
import csv
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from bench.load import GUEST_PASSWORD, SEED_FILE
from bench.load.seed import seed
from gateway.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results"
MAX_USERS = 200
MAX_DURATION_S = 600
# The gateway's limits a load run exceeds on purpose: one address books and pays for every guest, many times a minute.
LOAD_LIMITS = {
    "LANGO_RATE_LIMITS__LOGIN_ATTEMPTS_PER_ADDRESS": "100000/minute",
    "LANGO_RATE_LIMITS__HOLDS_PER_USER": "100000/minute",
    "LANGO_RATE_LIMITS__STK_PUSHES_PER_PHONE": "100000/minute",
    "LANGO_RATE_LIMITS__STK_PUSHES_PER_USER": "100000/minute",
    "LANGO_RATE_LIMITS__STK_PUSHES_PER_ADDRESS": "100000/minute",
}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--host", default=None, help="the gateway's URL (loopback only); default: server.public_url")
    parser.add_argument("--users", type=int, default=20, help=f"simulated guests, at most {MAX_USERS}")
    parser.add_argument("--spawn-rate", type=float, default=5.0, help="guests started per second")
    parser.add_argument("--duration", default="60s", help=f"how long to run, e.g. 60s or 2m (at most {MAX_DURATION_S} s)")
    return parser.parse_args()


def duration_s(text: str) -> int:
    units = {"s": 1, "m": 60}
    seconds = int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)
    if not 1 <= seconds <= MAX_DURATION_S:
        raise SystemExit(f"--duration must lie between 1 s and {MAX_DURATION_S} s")
    return seconds


def loopback_host(url: str) -> str:
    hostname = urlparse(url).hostname or ""
    try:
        loopback = hostname == "localhost" or ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"refusing to load {url}: only a gateway on this machine's loopback may be loaded")
    return url.rstrip("/")


def run_locust(host: str, users: int, spawn_rate: float, seconds: int, seeded: Path, prefix: Path) -> int:
    command = [
        sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")),
        "--headless", "--only-summary", "--users", str(users), "--spawn-rate", str(spawn_rate),
        "--run-time", f"{seconds}s", "--stop-timeout", "35", "--host", host, "--csv", str(prefix),
    ]  # fmt: skip
    return subprocess.run(command, cwd=REPO, env={**os.environ, SEED_FILE: str(seeded)}, check=False).returncode


def report(stats_csv: Path) -> str:
    """The Locust statistics as a Markdown table, one row per step and the aggregate."""
    lines = [
        "| step | requests | failures | req/s | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    with stats_csv.open() as rows:
        for row in csv.DictReader(rows):
            lines.append(
                f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} | {float(row['Requests/s']):.1f} "
                f"| {row['50%']} | {row['95%']} | {row['99%']} |"
            )
    return "\n".join(lines)


def main() -> int:
    arguments = parse_arguments()
    if not 1 <= arguments.users <= MAX_USERS:
        raise SystemExit(f"--users must lie between 1 and {MAX_USERS}")
    settings = load_settings(REPO / "config.toml")
    host = loopback_host(arguments.host or settings.server.public_url)
    seconds = duration_s(arguments.duration)
    if any(name not in os.environ for name in LOAD_LIMITS):
        raise SystemExit(
            "start the gateway, and this command, with the limits a load run exceeds on purpose raised:\n  "
            + " ".join(f"{name}={value}" for name, value in LOAD_LIMITS.items())
        )
    listing_ids, guest_emails = seed(settings, arguments.users, GUEST_PASSWORD)
    RESULTS.mkdir(parents=True, exist_ok=True)
    prefix = RESULTS / f"load-{int(time.time())}"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as seeded:
        json.dump({"listings": listing_ids, "guests": guest_emails}, seeded)
    try:
        status = run_locust(host, arguments.users, arguments.spawn_rate, seconds, Path(seeded.name), prefix)
    finally:
        os.unlink(seeded.name)
    print(f"\n{arguments.users} guests for {seconds} s against {host} (cores: {os.cpu_count()})\n")
    print(report(Path(f"{prefix}_stats.csv")))
    return status


if __name__ == "__main__":
    sys.exit(main())
