"""One simulated guest: sign in as a seeded guest, open the socket, then search, book, pay by M-Pesa and await the events.

The socket waits are reported as their own rows: the time from the payment's answer until `payment.updated`
says succeeded and `booking.updated` says confirmed (the sandbox phone answers after
payments.sandbox_callback_delay_s, so that delay is part of those figures).
"""

import itertools
import json
import os
import threading
import time
import uuid
from datetime import date, timedelta
from typing import Any

import socketio
from locust import HttpUser, between, events, task

from bench.load import GUEST_PASSWORD, SEED_FILE

EVENT_TIMEOUT_S = 30.0
NAIROBI = (36.8219, -1.2921)
_next_guest = itertools.count()


class SocketInbox:
    """The latest status pushed for each payment and booking id, and a condition to wait on a change."""

    def __init__(self) -> None:
        self.statuses: dict[tuple[str, str], str] = {}
        self.changed = threading.Condition()

    def record(self, kind: str, envelope: dict[str, Any]) -> None:
        with self.changed:
            self.statuses[(kind, envelope["data"]["id"])] = envelope["data"]["status"]
            self.changed.notify_all()

    def wait_for(self, kind: str, item_id: str, status: str) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.statuses.get((kind, item_id)) == status, EVENT_TIMEOUT_S)


class Guest(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        with open(os.environ[SEED_FILE]) as seed_file:
            seeded = json.load(seed_file)
        number = next(_next_guest)
        self.listing_id = seeded["listings"][number % len(seeded["listings"])]
        email = seeded["guests"][number % len(seeded["guests"])]
        # Each guest books consecutive two-night stays at its own listing: no two guests compete for nights.
        self.nights = itertools.count(1, 2)
        signed_in = self.client.post("/v1/auth/login", json={"email": email, "password": GUEST_PASSWORD}, name="sign-in")
        token = signed_in.json()["tokens"]["access_token"]
        self.client.headers["Authorization"] = f"Bearer {token}"
        self.inbox = SocketInbox()
        self.socket = socketio.Client(reconnection=False)
        self.socket.on("payment.updated", lambda envelope: self.inbox.record("payment", envelope))
        self.socket.on("booking.updated", lambda envelope: self.inbox.record("booking", envelope))
        self.socket.connect(self.host, auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def on_stop(self) -> None:
        self.socket.disconnect()

    @task
    def book_and_pay(self) -> None:
        self.client.get(
            "/v1/properties", params={"near_lng": NAIROBI[0], "near_lat": NAIROBI[1], "radius_m": 20_000}, name="search"
        )
        check_in = date.today() + timedelta(days=next(self.nights))
        stay = {"property_id": self.listing_id, "check_in": str(check_in), "check_out": str(check_in + timedelta(days=2)), "guests": 2}
        with self.client.post("/v1/bookings", json=stay, name="book", catch_response=True) as booked:
            if booked.status_code != 201:
                booked.failure(f"{booked.status_code}: {booked.text[:200]}")
                return
        booking_id = booked.json()["id"]
        payment = {"purpose": "booking", "target_id": booking_id, "method": "mpesa", "phone": "0712345678"}
        with self.client.post(
            "/v1/payments", json=payment, headers={"Idempotency-Key": uuid.uuid4().hex}, name="pay", catch_response=True
        ) as paid:
            if paid.status_code != 201:
                paid.failure(f"{paid.status_code}: {paid.text[:200]}")
                return
        paid_at = time.perf_counter()
        self._await_event("payment", paid.json()["id"], "succeeded", paid_at)
        self._await_event("booking", booking_id, "confirmed", paid_at)

    def _await_event(self, kind: str, item_id: str, status: str, since: float) -> None:
        arrived = self.inbox.wait_for(kind, item_id, status)
        events.request.fire(
            request_type="SOCKET",
            name=f"{kind}.updated {status}",
            response_time=(time.perf_counter() - since) * 1000,
            response_length=0,
            exception=None if arrived else TimeoutError(f"no {kind}.updated {status} within {EVENT_TIMEOUT_S} s"),
            context={},
        )
