"""The embedded default as `make run` starts it: book, pay with the M-Pesa sandbox, and watch the socket, no manual step."""

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from pymongo import AsyncMongoClient

from gateway.crypto.signing_keys import new_signing_key, parse_key_ring
from gateway.security.tokens import TokenService
from tests.conftest import REPO, free_port
from tests.properties.builders import listing_body
from tests.served import wait_until_ready

LANGO = REPO / ".venv" / "bin" / "lango"
START_TIMEOUT_S = 90.0
# The gateway and its embedded servers start beside this process; the loop-blocking guard measures wall time.
pytestmark = [pytest.mark.allows_blocking, pytest.mark.timeout(240)]


class EmbeddedGateway:
    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.mongodb_port = free_port()
        self.signing_keys = json.dumps({"keys": [new_signing_key()]})
        self.log_path = tmp_path / "serve.log"
        env = {key: value for key, value in os.environ.items() if not key.startswith("LANGO_")}
        env.pop("MONGODB_URL", None)
        env.pop("REDIS_URL", None)
        env.update(
            LANGO_EMBEDDED__DATA_DIR=str(tmp_path / "var"),
            LANGO_EMBEDDED__MONGODB_PORT=str(self.mongodb_port),
            LANGO_EMBEDDED__REDIS_PORT=str(free_port()),
            LANGO_SERVER__PORT=str(self.port),
            LANGO_SERVER__PUBLIC_URL=self.url,
            LANGO_AUTH__SIGNING_KEYS=self.signing_keys,
            LANGO_LOGGING__FORMAT="console",
        )
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        with self.log_path.open("wb") as log_file:
            self.process = await asyncio.to_thread(
                subprocess.Popen, [str(LANGO), "serve"], cwd=REPO, env=self.env, stdout=log_file, stderr=subprocess.STDOUT
            )
        await wait_until_ready(self.url, START_TIMEOUT_S, self.process, self.log_path)

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            await asyncio.to_thread(self.process.wait, 60)


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[EmbeddedGateway]:
    running = EmbeddedGateway(tmp_path)
    try:
        await running.start()
        yield running
    finally:
        await running.stop()


async def create_account(gateway: EmbeddedGateway, role: str) -> dict[str, str]:
    """An account stored straight into the embedded database, signed in with a token of the gateway's own keys."""
    now = datetime.now(UTC)
    mongo: AsyncMongoClient = AsyncMongoClient(f"mongodb://127.0.0.1:{gateway.mongodb_port}/?directConnection=true")
    try:
        inserted = await mongo.lango.users.insert_one(
            {
                "email": f"{role}-{uuid.uuid4().hex[:8]}@example.com",
                "email_verified_at": now,
                "password_hash": "not-used",
                "password_changed_at": now,
                "roles": [role],
                "created_at": now,
                "totp_last_step": -1,
                "backup_code_hashes": [],
            }
        )
    finally:
        await mongo.close()
    tokens = TokenService(
        parse_key_ring(gateway.signing_keys), issuer="lango", access_ttl=timedelta(minutes=15), challenge_ttl=timedelta(minutes=5)
    )
    token = tokens.issue_access(str(inserted.inserted_id), [role], uuid.uuid4().hex)
    return {"Authorization": f"Bearer {token}", "token": token}


async def test_book_pay_with_mpesa_and_the_socket_sees_it_settle(gateway: EmbeddedGateway) -> None:
    agent = await create_account(gateway, "agent")
    guest = await create_account(gateway, "guest")
    received: list[tuple[str, dict[str, Any]]] = []
    changed = asyncio.Condition()
    sio = socketio.AsyncClient(reconnection=False)

    async def record(event: str, envelope: Any = None) -> None:
        async with changed:
            received.append((event, envelope))
            changed.notify_all()

    sio.on("*", record)
    await sio.connect(gateway.url, auth={"token": guest["token"]}, transports=["websocket"], wait_timeout=10)
    try:
        async with aiohttp.ClientSession(base_url=gateway.url) as http:
            signed_agent = {"Authorization": agent["Authorization"]}
            async with http.post("/v1/properties", json=listing_body(), headers=signed_agent) as created:
                assert created.status == 201, await created.text()
                listing = await created.json()
            async with http.post(f"/v1/properties/{listing['id']}/publish", headers=signed_agent) as published:
                assert published.status == 200, await published.text()
            check_in = datetime.now(UTC).date() + timedelta(days=14)
            stay = {"property_id": listing["id"], "check_in": str(check_in), "check_out": str(check_in + timedelta(days=3)), "guests": 2}
            signed_guest = {"Authorization": guest["Authorization"]}
            async with http.post("/v1/bookings", json=stay, headers=signed_guest) as booked:
                assert booked.status == 201, await booked.text()
                booking = await booked.json()
            payment_body = {"purpose": "booking", "target_id": booking["id"], "method": "mpesa", "phone": "0712345678"}
            async with http.post(
                "/v1/payments", json=payment_body, headers={**signed_guest, "Idempotency-Key": uuid.uuid4().hex}
            ) as paid:
                assert paid.status == 201, await paid.text()
                payment = await paid.json()

        def payment_statuses() -> list[str]:
            return [data["data"]["status"] for event, data in received if event == "payment.updated" and data["data"]["id"] == payment["id"]]

        def booking_confirmed() -> bool:
            return any(
                event == "booking.updated" and data["data"]["id"] == booking["id"] and data["data"]["status"] == "confirmed"
                for event, data in received
            )

        async with changed:
            # The sandbox phone answers the prompt after payments.sandbox_callback_delay_s (3 s by default).
            await asyncio.wait_for(changed.wait_for(lambda: "succeeded" in payment_statuses() and booking_confirmed()), 30)
        assert payment_statuses() == ["pending", "succeeded"]
        assert payment["amount_minor"] == booking["price"]["total_minor"]
    finally:
        await sio.disconnect()
