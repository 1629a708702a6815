"""What the model knows of the marketplace it drives: its people, their sessions and sockets, and what they made."""

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tests.model.clients import Socket

# A session's sockets must be closed, on every node, this soon after the session is revoked.
REVOCATION_REACH_S = 1.0


@dataclass(repr=False)
class Person:
    user_id: str
    email: str
    roles: set[str]
    password: str
    # The owner's phone: the device token of their last sign-in, sent back on the next one.
    device_token: str | None = None

    def __repr__(self) -> str:
        return f"Person({self.user_id}, {sorted(self.roles)})"


@dataclass(repr=False)
class Session:
    person: Person
    access_token: str
    refresh_token: str
    session_id: str
    revoked_at: float | None = None
    socket: Socket | None = None
    # Rooms the socket may receive events of: its own user room, and the rooms a join was granted for.
    rooms: set[str] = field(default_factory=set)

    def __repr__(self) -> str:
        state = "revoked" if self.revoked_at is not None else "live"
        return f"Session({self.session_id} of {self.person!r}, {state}, socket={'yes' if self.socket else 'no'})"

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = time.monotonic()


@dataclass
class Stay:
    """A booking the model holds the id of, with who made it."""

    booking_id: str
    guest: Person
    property_id: str


@dataclass
class Talk:
    """A stay's conversation the model wrote a phone number in."""

    conversation_id: str
    stay: Stay


@dataclass
class Order:
    order_id: str
    buyer: Person
    event_id: str


@dataclass
class Paid:
    """A payment the model started: for what, through which vendor and node, and how the vendor will answer."""

    payment_id: str
    purpose: str
    target_id: str
    method: str
    node: int
    payer: Person
    answer: dict[str, Any]
    # What the payer will do at the vendor: pay, or decline.
    pays: bool


@dataclass
class HostedEvent:
    event_id: str
    host: Person
    ticket_type_ids: list[str]
    cancelled: bool = False


@dataclass
class World:
    people: dict[str, Person] = field(default_factory=dict)
    sessions: list[Session] = field(default_factory=list)
    listings: list[str] = field(default_factory=list)
    stays: list[Stay] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    payments: list[Paid] = field(default_factory=list)
    events: list[HostedEvent] = field(default_factory=list)
    talks: list[Talk] = field(default_factory=list)
    # ticket id -> how many entries the door admitted (never more than one without re-entry)
    admitted: dict[str, int] = field(default_factory=dict)
    # listing id -> the id of the iCal feed it imports, and the nights that feed showed at its last sync
    feeds: dict[str, str] = field(default_factory=dict)
    feed_nights: dict[str, set[date]] = field(default_factory=dict)
    # M-Pesa TransIDs of the money this run's people paid on the Paybill (matched or not).
    paybill_trans_ids: list[str] = field(default_factory=list)
    # booking id -> the sides ("guest", "host") that reviewed the stay, in the order reviewed
    reviewed: dict[str, list[str]] = field(default_factory=dict)
    # How far the review sweep has been run ahead: windows closed by then are public; None until it first runs.
    reviews_swept_to: datetime | None = None
    steps: int = 0

    def live_sessions(self) -> list[Session]:
        return [session for session in self.sessions if session.revoked_at is None]

    def revoked_sessions(self) -> list[Session]:
        return [session for session in self.sessions if session.revoked_at is not None]

    def sessions_of(self, person: Person) -> list[Session]:
        return [session for session in self.sessions if session.person is person]

    def revoke_all(self, person: Person, keep: Session | None = None) -> None:
        for session in self.sessions_of(person):
            if session is not keep:
                session.revoke()
