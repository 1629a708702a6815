"""How the model reaches the gateways: HTTP that fails the run on any 5xx, and sockets that keep what they receive."""

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import socketio


class ServerError(AssertionError):
    """A gateway answered 5xx: a violation whatever the request was."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def problem(self) -> str:
        """The problem type's slug, or '' for an answer that is not a problem."""
        if isinstance(self.body, dict) and isinstance(self.body.get("type"), str):
            return self.body["type"].rsplit(":", 1)[-1]
        return ""


class Http:
    """One connection pool per node; every answer is checked for a 5xx before the model sees it."""

    def __init__(self, node_urls: list[str]) -> None:
        self.node_urls = node_urls
        self._clients = [httpx.Client(base_url=url, timeout=30.0) for url in node_urls]

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def request(self, node: int, method: str, path: str, *, token: str | None = None, json: Any = None,
                idempotent: bool = False, headers: dict[str, str] | None = None) -> Answer:  # fmt: skip
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if idempotent:
            sent["Idempotency-Key"] = uuid.uuid4().hex
        response = self._clients[node % len(self._clients)].request(method, path, json=json, headers=sent)
        body = response.json() if response.headers.get("content-type", "").endswith("json") else response.text
        if response.status_code >= 500:
            raise ServerError(f"{method} {path} on node {node} answered {response.status_code}: {body}")
        return Answer(response.status_code, body)

    def post_raw(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """A vendor's notification sent again, or forged, to a webhook route."""
        response = httpx.post(url, content=body, headers=headers, timeout=30.0)
        if response.status_code >= 500:
            raise ServerError(f"POST {url} answered {response.status_code}: {response.text}")
        return response.status_code


@dataclass
class Received:
    event: str
    data: Any
    at: float


@dataclass
class Socket:
    """A Socket.IO connection of one session; what it receives is kept with the time it arrived."""

    session_id: str
    user_id: str
    node: int
    client: socketio.Client = field(default_factory=lambda: socketio.Client(reconnection=False))
    received: list[Received] = field(default_factory=list)
    disconnected_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.client.on("*", self._record)
        self.client.on("disconnect", self._gone)

    def _record(self, event: str, data: Any = None) -> None:
        with self._lock:
            self.received.append(Received(event, data, time.monotonic()))

    def _gone(self, reason: Any = None) -> None:
        self.disconnected_at = time.monotonic()

    def connect(self, url: str, token: str) -> str | None:
        """Connect with the access token; answers None, or the refusal's code."""
        try:
            self.client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        except socketio.exceptions.ConnectionError as error:
            refusal = error.args[1] if len(error.args) > 1 else error.args[0] if error.args else "refused"
            return refusal.get("code", str(refusal)) if isinstance(refusal, dict) else str(refusal)
        return None

    @property
    def connected(self) -> bool:
        return self.client.connected

    def request(self, event: str, payload: dict[str, Any]) -> Any:
        return self.client.call(event, payload, timeout=10)

    def envelopes_since(self, start: int) -> list[Received]:
        with self._lock:
            return self.received[start:]

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()
