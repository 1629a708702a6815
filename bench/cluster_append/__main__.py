"""`python -m bench.cluster_append --single URL --cluster URL`: the same bursts of event appends through the message
bus on one Redis and on a Redis Cluster, side by side; prints the rate, the publisher's CPU per event and the
primaries' CPU per event (from each primary's INFO), for the partition counts asked.

Both servers must be running; the cluster's primaries are found with CLUSTER NODES. Events go to rooms nobody
holds, so the figures are the append itself (id, history, presence lookup), without fan-out."""

import argparse
import asyncio
import random
import resource
import time
import uuid
from pathlib import Path

from redis.asyncio import Redis

from gateway.messaging import MessageBus, Outgoing
from gateway.redis_client import connect_redis, create_redis
from gateway.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster_append", description=__doc__)
    parser.add_argument("--single", required=True, help="a single Redis, e.g. redis://127.0.0.1:6379/14")
    parser.add_argument("--cluster", required=True, help="any node of a Redis Cluster, e.g. redis://127.0.0.1:7000")
    parser.add_argument("--partitions", default="128,16", help="redis.cluster_partitions to run, comma-separated")
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--burst", type=int, default=60, help="events per publish_many, as a busy worker's tick")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=2)
    return parser.parse_args()


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def primaries_cpu_s(urls: list[str]) -> float:
    total = 0.0
    for url in urls:
        client = Redis.from_url(url)
        info = await client.info("cpu")
        total += info["used_cpu_sys"] + info["used_cpu_user"]
        await client.aclose()
    return total


async def primary_urls(cluster_url: str) -> list[str]:
    client = Redis.from_url(cluster_url)
    nodes = (await client.execute_command("CLUSTER", "NODES")).decode()
    await client.aclose()
    addresses = [line.split()[1].split("@")[0] for line in nodes.splitlines() if "master" in line.split()[2]]
    return [f"redis://{address}" for address in addresses]


async def measure(label: str, settings: Settings, servers: list[str], arguments: argparse.Namespace) -> None:
    redis = create_redis(settings.redis)
    await connect_redis(redis)
    bus = MessageBus(redis, settings)
    rooms = [f"user:u{number}" for number in range(arguments.users)]
    await bus.publish_many([Outgoing(room, "booking.updated", {"n": 0}) for room in rooms[:200]])  # scripts loaded
    own, primaries, started = own_cpu_s(), await primaries_cpu_s(servers), time.monotonic()
    for _ in range(arguments.events // arguments.burst):
        burst = [
            Outgoing(random.choice(rooms), "booking.updated", {"n": n, "status": "confirmed"})
            for n in range(arguments.burst)
        ]
        await bus.publish_many(burst)
    elapsed = time.monotonic() - started
    own, primaries = own_cpu_s() - own, await primaries_cpu_s(servers) - primaries
    events = arguments.events // arguments.burst * arguments.burst
    print(f"{label}: {events / elapsed:,.0f} events/s; publisher {own / events * 1e6:.1f} us/event, "
          f"Redis primaries {primaries / events * 1e6:.1f} us/event")  # fmt: skip
    await bus.close()
    await redis.aclose()


async def run(arguments: argparse.Namespace) -> None:
    config = REPO / "config.toml"
    single = load_settings(config, redis={"url": arguments.single, "namespace": f"bench-{uuid.uuid4().hex[:8]}"})
    primaries = await primary_urls(arguments.cluster)
    for _ in range(arguments.runs):
        await measure("one Redis", single, [arguments.single], arguments)
        for partitions in (int(value) for value in arguments.partitions.split(",")):
            on_cluster = load_settings(
                config,
                redis={"url": arguments.cluster, "cluster": True, "cluster_partitions": partitions,
                       "namespace": f"bench-{uuid.uuid4().hex[:8]}"},
                jobs={"redis_url": arguments.single},
            )  # fmt: skip
            await measure(
                f"cluster of {len(primaries)} primaries, {partitions} partitions", on_cluster, primaries, arguments
            )


def main() -> None:
    asyncio.run(run(parse_arguments()))


if __name__ == "__main__":
    main()
