"""`python -m bench.scan`: a gateway process on a fresh embedded database, an event with paid tickets, and 20 scanner
sockets checking in distinct tickets at 200 scans/s for 30 s; prints p50/p99 ack latency, errors, and whether the
admitted count equals the tickets scanned.

MONGODB_URL / REDIS_URL point it at running servers; otherwise it starts its own SecantusDB and Redis."""

import argparse
import asyncio
import gc
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import socketio
from beanie import PydanticObjectId
from pymongo import AsyncMongoClient

from documents.door_pass import DoorPass
from documents.hosted_event import EventStatus, HostedEvent, Venue
from documents.property import Address, GeoPoint
from documents.ticket import Ticket
from documents.ticket_order import OrderLine, OrderStatus, TicketOrder
from documents.ticket_type import TicketType
from documents.user import User
from gateway.crypto.signing_keys import new_signing_key, parse_key_ring
from gateway.database import init_documents
from gateway.embedded import start_redis, start_secantusdb, wait_until_answers
from gateway.hosted_events.keys import new_event_key, private_key, ticket_sealing_keys
from gateway.migrate import migrate
from gateway.redis_client import create_redis
from gateway.security.tokens import TokenService
from gateway.settings import Settings, load_settings
from gateway.tickets.holders import remember_holders
from gateway.tickets.secrets import TicketClaims, sign_ticket_secret
from tests.conftest import free_port
from tests.served import wait_until_ready

DATABASE = "lango_bench"
REPO = Path(__file__).resolve().parents[2]


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scan", description=__doc__)
    parser.add_argument("--scanners", type=int, default=20)
    parser.add_argument("--rate", type=float, default=200.0, help="scans per second, all scanners together")
    parser.add_argument("--seconds", type=float, default=30.0)
    return parser.parse_args()


def server_urls(stack: ExitStack, data_dir: Path) -> tuple[str, str]:
    urls = []
    for variable, start in (("MONGODB_URL", start_secantusdb), ("REDIS_URL", start_redis)):
        if os.environ.get(variable):
            urls.append(os.environ[variable])
            continue
        server = start(Settings().embedded, port=free_port(), data_dir=data_dir)
        stack.callback(server.stop)
        wait_until_answers(server, timeout_s=60)
        urls.append(server.url)
    return urls[0], urls[1]


async def seed(settings: Settings, tickets: int, scanners: int) -> tuple[str, str, list[str], list[str]]:
    """An event on now, with `tickets` paid tickets: answers its id, the host's id, the scanners' ids, the secrets."""
    client: AsyncMongoClient = AsyncMongoClient(settings.mongodb.url.get_secret_value(), tz_aware=True)  # type: ignore[union-attr]
    await init_documents(client, settings.mongodb, create_indexes=False)
    host = User(email=f"host-{uuid.uuid4().hex[:8]}@example.com", password_hash="-", roles=["agent"])
    staff = [User(email=f"door-{n}-{uuid.uuid4().hex[:8]}@example.com", password_hash="-", roles=["scanner"])
             for n in range(scanners)]  # fmt: skip
    await User.insert_many([host, *staff])
    event_id = PydanticObjectId()
    sealing = ticket_sealing_keys(settings.tickets)
    now = datetime.now(UTC)
    event = HostedEvent(
        id=event_id, host_id=str(host.id), title="Bench night", status=EventStatus.PUBLISHED,
        venue=Venue(name="KICC", address=Address(county="Nairobi", town="Nairobi"), location=GeoPoint(coordinates=(36.82, -1.29))),
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=5), capacity=tickets, sold=tickets,
        scanner_ids=[str(user.id) for user in staff], keys=[new_event_key(str(event_id), 1, sealing)],
    )  # fmt: skip
    await event.insert()
    ticket_type = TicketType(event_id=event_id, name="Regular", price_minor=100_000, currency="KES", quantity=tickets,
                             sold=tickets, sales_start=now - timedelta(days=1), sales_end=now, per_order_limit=10)  # fmt: skip
    await ticket_type.insert()
    order = TicketOrder(buyer_id=str(host.id), event_id=event_id, host_id=str(host.id), holder_name="Bench Guest",
                        lines=[OrderLine(ticket_type_id=ticket_type.id, type_name="Regular", quantity=tickets,
                                         unit_price_minor=100_000)],
                        total_minor=tickets * 100_000, currency="KES", status=OrderStatus.PAID,
                        hold_expires_at=now, seats_taken=True)  # fmt: skip
    await order.insert()
    issued = [Ticket(id=PydanticObjectId(), event_id=event_id, order_id=order.id, seat=n, ticket_type_id=ticket_type.id,
                     type_name="Regular", holder_id=str(host.id), holder_name=f"Guest {n}",
                     valid_from=event.starts_at, valid_until=event.ends_at) for n in range(tickets)]  # fmt: skip
    await Ticket.insert_many(issued)
    await DoorPass.open_for(issued)
    redis = create_redis(settings.redis)
    await remember_holders(redis, settings.redis, issued)
    await redis.aclose()
    key = event.signing_key
    signing = private_key(str(event_id), key.kid, key.sealed_private_key, sealing)
    secrets_ = [
        sign_ticket_secret(TicketClaims(str(t.id), str(event_id), str(ticket_type.id), t.valid_from, t.valid_until, 1, key.kid), signing)
        for t in issued
    ]  # fmt: skip
    await client.close()
    return str(event_id), str(host.id), [str(user.id) for user in staff], secrets_


def serve(settings: Settings, signing_keys: str, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LANGO_")}
    env.update(
        MONGODB_URL=settings.mongodb.url.get_secret_value(),  # type: ignore[union-attr]
        REDIS_URL=settings.redis.url.get_secret_value(),  # type: ignore[union-attr]
        # Production: the database was migrated above, and nothing ephemeral (keys, secrets) is made up.
        LANGO_ENVIRONMENT="production",
        LANGO_SANDBOX="false",
        LANGO_MONGODB__DATABASE=DATABASE,
        LANGO_REDIS__NAMESPACE=settings.redis.namespace,
        LANGO_AUTH__SIGNING_KEYS=signing_keys,
        LANGO_STORAGE__LOCAL__SIGNING_SECRET=secrets.token_urlsafe(32),
        LANGO_AUTH__TOTP_ENCRYPTION_KEY=secrets.token_urlsafe(32),
        LANGO_TICKETS__KEY_ENCRYPTION_KEY=settings.tickets.key_encryption_key.get_secret_value(),  # type: ignore[union-attr]
        LANGO_SERVER__PORT=str(port),
        LANGO_JOBS__IN_PROCESS="true",
        LANGO_LOGGING__LEVEL="WARNING",
    )
    with log_path.open("wb") as log_file:
        return subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve"], cwd=REPO, env=env, stdout=log_file,
                                stderr=subprocess.STDOUT)  # fmt: skip


async def scan_for(door: socketio.AsyncClient, door_secrets: list[str], interval: float, started: float,
                   latencies: list[float], errors: list[str]) -> int:  # fmt: skip
    """Send this door's scans on a fixed schedule (open loop: a slow ack never delays the next scan)."""

    async def scan_once(secret: str) -> None:
        sent = time.perf_counter()
        try:
            ack = await door.call("ticket.scan", {"secret": secret, "type": "entry", "gate": "Main",
                                                  "nonce": uuid.uuid4().hex, "scanned_at": datetime.now(UTC).isoformat()},
                                  timeout=10)  # fmt: skip
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError) as error:
            errors.append(type(error).__name__)
            return
        latencies.append(time.perf_counter() - sent)
        if not ack.get("ok") or ack.get("result") != "ok":
            errors.append(str(ack.get("result") or ack.get("error")))

    pending = []
    for n, secret in enumerate(door_secrets):
        await asyncio.sleep(max(0.0, started + n * interval - time.perf_counter()))
        pending.append(asyncio.create_task(scan_once(secret)))
    await asyncio.gather(*pending)
    return len(door_secrets)


async def run(url: str, tokens: TokenService, event_id: str, host_id: str, staff: list[str], ticket_secrets: list[str],
              arguments: argparse.Namespace) -> None:  # fmt: skip
    doors = [socketio.AsyncClient(reconnection=False) for _ in staff]
    for door, user_id in zip(doors, staff, strict=True):
        await door.connect(url, auth={"token": tokens.issue_access(user_id, ["scanner"], uuid.uuid4().hex)},
                           transports=["websocket"], wait_timeout=10)  # fmt: skip
        await door.call("rooms.join", {"room": f"event:{event_id}:scanners"}, timeout=10)
    per_door = len(ticket_secrets) // len(doors)
    interval = len(doors) / arguments.rate
    latencies: list[float] = []
    errors: list[str] = []
    # The load client's own collector must not stall its reading of acks: the seeded secrets stay put.
    gc.collect()
    gc.freeze()
    started = time.perf_counter() + 0.5
    scanned = sum(await asyncio.gather(*(
        scan_for(door, ticket_secrets[n * per_door:(n + 1) * per_door], interval, started + n * interval / len(doors),
                 latencies, errors)
        for n, door in enumerate(doors)
    )))  # fmt: skip
    elapsed = time.perf_counter() - started
    host_token = tokens.issue_access(host_id, ["agent"], uuid.uuid4().hex)
    async with aiohttp.ClientSession() as http, http.get(
        f"{url}/v1/events/{event_id}/stats", headers={"Authorization": f"Bearer {host_token}"}
    ) as answer:
        stats = await answer.json()
    for door in doors:
        await door.disconnect()
    ordered = sorted(latencies)
    print(f"scanners: {len(doors)}  scans sent: {scanned} in {elapsed:.1f} s ({scanned / elapsed:.0f}/s)")
    print(f"ack latency: p50 {statistics.median(ordered) * 1000:.1f} ms  "
          f"p99 {ordered[int(len(ordered) * 0.99) - 1] * 1000:.1f} ms  max {ordered[-1] * 1000:.1f} ms")  # fmt: skip
    print(f"errors: {len(errors)} {sorted(set(errors))[:5]}")
    print(f"admitted (server stats): {stats['admitted']}  tickets scanned: {scanned}  "
          f"equal: {stats['admitted'] == scanned}")  # fmt: skip


def main() -> None:
    arguments = parse_arguments()
    tickets = int(arguments.rate * arguments.seconds)
    signing_keys = json.dumps({"keys": [new_signing_key()]})
    with ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lango-bench-scan-")))
        mongodb_url, redis_url = server_urls(stack, data_dir)
        settings = load_settings(
            REPO / "config.toml",
            environment="test",
            mongodb={"url": mongodb_url, "database": DATABASE},
            redis={"url": redis_url, "namespace": f"lango-bench-{uuid.uuid4().hex[:8]}"},
            tickets={"key_encryption_key": secrets.token_urlsafe(32)},
            logging={"level": "WARNING", "format": "console"},
        )
        asyncio.run(migrate(settings))
        event_id, host_id, staff, ticket_secrets = asyncio.run(seed(settings, tickets, arguments.scanners))
        port = free_port()
        log_path = data_dir / "gateway.log"
        process = serve(settings, signing_keys, port, log_path)
        stack.callback(process.wait, 30)
        stack.callback(process.terminate)
        url = f"http://127.0.0.1:{port}"
        tokens = TokenService(parse_key_ring(signing_keys), issuer="lango", access_ttl=timedelta(hours=1),
                              challenge_ttl=timedelta(minutes=5))  # fmt: skip
        asyncio.run(wait_until_ready(url, 60, process, log_path))
        print(f"seeded {tickets} paid tickets; gateway pid {process.pid} on port {port}")
        asyncio.run(run(url, tokens, event_id, host_id, staff, ticket_secrets, arguments))


if __name__ == "__main__":
    main()
