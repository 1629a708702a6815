"""`python -m bench.search`: seed 10,000 listings into a fresh database, then measure one realistic search
over HTTP, cold (every request a new cache key) and cached, printing requests/s, p50 and p99.

MONGODB_URL / REDIS_URL point it at running servers; otherwise it starts its own SecantusDB and Redis."""

import argparse
import asyncio
import math
import os
import random
import statistics
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from bson import ObjectId
from pymongo import AsyncMongoClient

from documents.night_claim import stored_date
from documents.search_grid import cells_of
from gateway.app import create_app
from gateway.embedded import start_redis, start_secantusdb, wait_until_answers
from gateway.logs import configure_logging
from gateway.migrate import migrate
from gateway.settings import EmbeddedSettings, Settings, load_settings
from gateway.state import SERVICES

CITIES = {"Nairobi": (36.8219, -1.2921), "Mombasa": (39.6682, -4.0435), "Kisumu": (34.7680, -0.0917)}
AMENITIES = ["wifi", "parking", "pool", "kitchen", "generator", "hot_water", "security", "garden"]
TYPES = ["apartment", "house", "room", "villa", "cottage"]
DATABASE = "lango_bench"


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--cold-requests", type=int, default=10)
    parser.add_argument("--cached-requests", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=8)
    return parser.parse_args()


def server_urls(stack: ExitStack) -> tuple[str, str]:
    data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lango-bench-")))
    urls = []
    for variable, start, port in (("MONGODB_URL", start_secantusdb, 27217), ("REDIS_URL", start_redis, 6579)):
        if os.environ.get(variable):
            urls.append(os.environ[variable])
            continue
        server = start(EmbeddedSettings(), port=port, data_dir=data_dir)
        stack.callback(server.stop)
        wait_until_answers(server, timeout_s=60)
        urls.append(server.url)
    return urls[0], urls[1]


def listing(rng: random.Random, agent_id: str, created_at: datetime) -> dict:
    city, (lng, lat) = rng.choice(list(CITIES.items()))
    # Within about 25 km of a city centre, denser near it, as real listings are.
    distance_deg, bearing = abs(rng.gauss(0, 0.08)), rng.uniform(0, 6.283)
    point = [lng + distance_deg * math.cos(bearing), lat + distance_deg * math.sin(bearing)]
    bedrooms = rng.randint(0, 5)
    return {
        "_id": ObjectId(),
        "agent_id": agent_id,
        "title": f"{rng.choice(TYPES).title()} in {city} #{rng.randint(1, 99_999)}",
        "description_html": "<p>A comfortable stay.</p>",
        "type": rng.choice(TYPES),
        "bedrooms": bedrooms,
        "bathrooms": max(1, bedrooms - 1),
        "max_guests": max(1, bedrooms * 2),
        "amenities": sorted(rng.sample(AMENITIES, rng.randint(1, 6))),
        "nightly_price_minor": rng.randrange(200_000, 3_000_000, 500),
        "cleaning_fee_minor": rng.choice([0, 50_000, 100_000]),
        "currency": "KES",
        "location": {"type": "Point", "coordinates": point},
        "search_cells": cells_of(*point),
        "claimed_nights": [],
        "address": {"county": city, "town": city, "street": None},
        "photo_ids": [],
        "cover_photo_id": None,
        "cancellation_policy": {"full_refund_days": 7, "partial_refund_days": 2, "partial_refund_percent": 50},
        "status": "published" if rng.random() < 0.9 else "draft",
        # The fields a listing gets from the start (migration 0004 gives them to older ones).
        "rating_count": 0,
        "rating_sum": 0,
        "rating_average": 0.0,
        "rating_category_sums": {},
        "stay_rules": {},
        "calendar_imports": 0,
        "created_at": created_at,
        "updated_at": created_at,
    }


async def seed(mongodb_url: str, count: int, check_in: datetime) -> None:
    rng = random.Random(5)
    client: AsyncMongoClient = AsyncMongoClient(mongodb_url, tz_aware=True)
    database = client[DATABASE]
    started = time.perf_counter()
    now = datetime.now(UTC)
    listings = [listing(rng, f"agent-{index % 500}", now - timedelta(minutes=index)) for index in range(count)]
    # A quarter of the listings have some night of the searched stay taken; the listing holds its claimed nights too.
    claims = [
        {"property_id": row["_id"], "night": stored_date(check_in.date() + timedelta(days=rng.randint(0, 2))),
         "kind": "booking", "booking_id": ObjectId(), "created_at": now}
        for row in rng.sample(listings, count // 4)
    ]  # fmt: skip
    by_id = {row["_id"]: row for row in listings}
    for claim in claims:
        by_id[claim["property_id"]]["claimed_nights"].append(claim["night"])
    for offset in range(0, count, 1_000):
        await database.properties.insert_many(listings[offset : offset + 1_000])
    await database.night_claims.insert_many(claims)
    await client.close()
    print(f"seeded {count} listings and {len(claims)} night claims in {time.perf_counter() - started:.1f}s")


def search_params(check_in: datetime, jitter: float) -> dict[str, str]:
    lng, lat = CITIES["Nairobi"]
    return {
        "near_lng": f"{lng + jitter:.6f}",
        "near_lat": f"{lat:.6f}",
        "radius_m": "10000",
        "check_in": str(check_in.date()),
        "check_out": str(check_in.date() + timedelta(days=3)),
        "guests": "2",
        "min_bedrooms": "1",
        "max_price_minor": "2000000",
        "amenities": "wifi",
        "limit": "20",
    }


async def measure(session: aiohttp.ClientSession, url: str, queries: list[dict[str, str]], concurrency: int, headers: dict) -> None:
    latencies: list[float] = []
    pending = iter(queries)
    results: list[int] = []

    async def worker() -> None:
        for params in pending:
            started = time.perf_counter()
            async with session.get(url, params=params, headers=headers) as response:
                body = await response.json()
                assert response.status == 200, body
                results.append(len(body["items"]))
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"  {len(latencies)} requests, concurrency {concurrency}: {len(latencies) / elapsed:.1f} req/s, "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
        f"{statistics.mean(results):.1f} results/page"
    )


async def run(settings: Settings, arguments: argparse.Namespace, check_in: datetime) -> None:
    app = create_app(settings, run_worker=False)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/v1/properties"
    headers = {"Authorization": f"Bearer {app[SERVICES].tokens.issue_access(str(ObjectId()), ['guest'], 'bench')}"}
    try:
        async with aiohttp.ClientSession() as session:
            print("cold (each request a new cache key):")
            cold = [search_params(check_in, index * 1e-6) for index in range(arguments.cold_requests)]
            # One at a time: each is the only request in flight, as a guest's first search would be.
            await measure(session, url, cold, 1, headers)
            print("cached (the same search, cache warmed):")
            warm = search_params(check_in, 0)
            await measure(session, url, [warm], 1, headers)
            await measure(session, url, [warm] * arguments.cached_requests, arguments.concurrency, headers)
    finally:
        await runner.cleanup()


def main() -> None:
    arguments = parse_arguments()
    check_in = datetime.now(UTC) + timedelta(days=30)
    with ExitStack() as stack:
        mongodb_url, redis_url = server_urls(stack)
        settings = load_settings(
            Path("config.toml"),
            environment="test",
            mongodb={"url": mongodb_url, "database": DATABASE},
            redis={"url": redis_url, "namespace": f"lango-bench-{uuid.uuid4().hex[:8]}"},
            jobs={"in_process": False},
            logging={"level": "WARNING", "format": "console"},
        )
        configure_logging(settings.logging)
        asyncio.run(migrate(settings))
        asyncio.run(seed(mongodb_url, arguments.listings, check_in))
        asyncio.run(run(settings, arguments, check_in))


if __name__ == "__main__":
    main()
