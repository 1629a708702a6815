"""A stateful model of the marketplace: people sign in, hold, pay, cancel, sell and scan tickets, sign out and lose
roles, while vendors pay, decline, repeat themselves and are impersonated; after every step the invariants hold.

Hypothesis chooses the steps and shrinks a failing run to a short one. The model drives the real HTTP and
Socket.IO API of two gateway processes (tests.model.harness); any 5xx fails the run on the spot.
"""

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import orjson
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from documents.review import CATEGORIES, ReviewerRole
from gateway.privacy.blockers import deletion_blockers
from tests.calendars.feeds import airbnb_feed
from tests.factories import DEFAULT_PASSWORD
from tests.model import invariants
from tests.model.clients import Answer, Http, Socket
from tests.model.harness import MPESA_CALLBACK_TOKEN, Marketplace
from tests.model.money_out import MoneyOutSteps, money_out
from tests.model.world import REVOCATION_REACH_S, HostedEvent, Order, Paid, Person, Session, Stay, Talk, World

# M-Pesa numbers by what their owner does with the prompt (the Daraja emulator's test phones).
PAYS, DECLINES, NEVER_ANSWERS = "0712345678", "254700000001", "254700000005"
NODES = st.integers(min_value=0, max_value=1)
# Well under realtime.max_sockets_per_user, which counts a closed socket until its node has told Redis.
SOCKETS_KEPT_PER_PERSON = 4
TIME_STEPS = st.sampled_from([timedelta(minutes=3), timedelta(minutes=12), timedelta(hours=2)])
PAYMENT_METHODS = st.sampled_from(["mpesa", "stripe", "paypal"])
# Far enough ahead that every stay the model holds (20 to 29 days out) has ended, and its review window closed.
STAYS_OVER, REVIEWS_CLOSED = timedelta(days=30), timedelta(days=45)
FORGERIES = st.sampled_from(["no_amount", "nan_amount", "huge_amount", "wrong_amount", "wrong_phone", "used_receipt"])


def _listing(title: str) -> dict[str, Any]:
    return {
        "title": title, "description": "A quiet flat.", "type": "apartment", "bedrooms": 1, "bathrooms": 1,
        "max_guests": 2, "amenities": ["wifi"], "nightly_price_minor": 300_000, "cleaning_fee_minor": 50_000,
        "location": {"type": "Point", "coordinates": [36.8219, -1.2921]},
        "address": {"county": "Nairobi", "town": "Kilimani"},
    }  # fmt: skip


def _event(starts_at: datetime) -> dict[str, Any]:
    return {
        "title": "Sauti za Busara", "description": "Music night",
        "venue": {"name": "Old Fort", "address": {"county": "Zanzibar", "town": "Stone Town"},
                  "location": {"type": "Point", "coordinates": [39.19, -6.16]}},
        "starts_at": starts_at.isoformat(), "ends_at": (starts_at + timedelta(hours=6)).isoformat(), "capacity": 5,
    }  # fmt: skip


class MarketplaceModel(MoneyOutSteps, RuleBasedStateMachine):
    """One run: a fresh cast of people on the shared marketplace; only what this run made is checked."""

    market: ClassVar[Marketplace]
    # Steps run across every run of the process, for the soak's report.
    steps_run: ClassVar[int] = 0
    runs: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        self.http = Http([node.url for node in self.market.nodes])
        self.world = World()
        type(self).runs += 1

    def teardown(self) -> None:
        for session in self.world.sessions:
            if session.socket is not None:
                session.socket.close()
        self.http.close()

    # The cast

    @initialize()
    def cast(self) -> None:
        self.admin = self._person("admin")
        self.agents = [self._person("agent"), self._person("agent")]
        self.guests = [self._person("guest") for _ in range(3)]
        self.scanner = self._person("scanner")
        for person in [self.admin, *self.agents, *self.guests, self.scanner]:
            self._sign_in(person, node=len(self.world.sessions) % 2, with_socket=person is not self.admin)
        for agent in self.agents:
            created = self._call(0, "POST", "/v1/properties", agent, json=_listing("Garden flat"), expect=(201,))
            self._call(1, "POST", f"/v1/properties/{created.body['id']}/publish", agent, expect=(200,))
            self.world.listings.append(created.body["id"])
        self._host_event(self.agents[0])

    def _person(self, role: str) -> Person:
        user_id, email = self.market.call(lambda: self.market.new_user(role))
        person = Person(user_id, email, {role}, DEFAULT_PASSWORD)
        self.world.people[user_id] = person
        return person

    def _host_event(self, host: Person) -> None:
        starts_at = datetime.now(UTC) + timedelta(hours=1)
        created = self._call(0, "POST", "/v1/events", host, json=_event(starts_at), expect=(201,))
        event_id = created.body["id"]
        type_ids = []
        for name in ("Regular", "VIP"):
            ticket_type = {"name": name, "price_minor": 150_000, "currency": "KES", "quantity": 3,
                           "sales_start": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
                           "sales_end": starts_at.isoformat(), "per_order_limit": 3}  # fmt: skip
            typed = self._call(0, "POST", f"/v1/events/{event_id}/ticket-types", host, json=ticket_type, expect=(201,))
            type_ids.append(typed.body["id"])
        self._call(1, "POST", f"/v1/events/{event_id}/publish", host, expect=(200,))
        # The door scanner may have lost the scanner role meanwhile: then the host cannot add them.
        self._call(0, "POST", f"/v1/events/{event_id}/scanners", host, json={"user_id": self.scanner.user_id}, expect=(200, 422))
        self.world.events.append(HostedEvent(event_id, host, type_ids))

    # Hypothesis favours the first rule in its order, which puts rules without arguments first: this one, a guest
    # browsing, is cheap, so the favour costs little and every other rule gets its fair share.
    @rule()
    def browse(self) -> None:
        guest = self.guests[self.world.steps % len(self.guests)]
        self.world.steps += 1
        self._call(self.world.steps % 2, "GET", "/v1/properties", guest, expect=(200, 401))
        self._call(self.world.steps % 2, "GET", "/v1/bookings", guest, expect=(200, 401))

    # Sessions, sockets and roles

    def _sign_in(self, person: Person, node: int, with_socket: bool) -> Session:
        body = {"email": person.email, "password": person.password}
        if person.device_token:
            body["device_token"] = person.device_token
        answer = self.http.request(node, "POST", "/v1/auth/login", json=body)
        assert answer.status == 200, f"the owner could not sign in from their own device: {answer}"
        person.device_token = answer.body.get("device_token") or person.device_token
        tokens = answer.body["tokens"]
        session = Session(person, tokens["access_token"], tokens["refresh_token"], tokens["session_id"])
        session.rooms.add(f"user:{person.user_id}")
        self.world.sessions.append(session)
        if with_socket:
            self._open_socket(session, node)
        return session

    def _open_socket(self, session: Session, node: int) -> None:
        socket = Socket(session.session_id, session.person.user_id, node)
        refused = socket.connect(self.market.nodes[node].url, session.access_token)
        assert refused is None or session.revoked_at is not None, f"a live session's socket was refused: {refused}"
        assert refused is not None or session.revoked_at is None, "a revoked session opened a socket"
        if refused is None:
            session.socket = socket

    @rule(index=st.integers(0, 6), node=NODES)
    def sign_in_again(self, index: int, node: int) -> None:
        """Another device of the same person; the oldest closes first, so the sockets per account stay under the cap."""
        people = [*self.agents, *self.guests, self.scanner]
        person = people[index % len(people)]
        open_sockets = [s.socket for s in self.world.sessions_of(person) if s.socket is not None and s.socket.connected]
        if len(open_sockets) >= SOCKETS_KEPT_PER_PERSON:
            open_sockets[0].close()
        self._sign_in(person, node, with_socket=True)

    @rule(index=st.integers(0, 2), guesses=st.integers(1, 12), node=NODES)
    def someone_guesses_a_password(self, index: int, guesses: int, node: int) -> None:
        """Wrong passwords from elsewhere, as many as it takes to lock the account: the owner still signs in."""
        person = self.guests[index]
        for _ in range(guesses):
            answer = self.http.request(node, "POST", "/v1/auth/login", json={"email": person.email, "password": "not-it-at-all"})
            assert answer.status in (401, 429), f"a wrong password answered {answer.status}"
        self._sign_in(person, node, with_socket=False)

    @precondition(lambda self: self.world.live_sessions())
    @rule(data=st.data(), node=NODES)
    def sign_out(self, data: st.DataObject, node: int) -> None:
        session = _newest(data, self.world.live_sessions())
        answer = self.http.request(node, "POST", "/v1/auth/logout", token=session.access_token)
        assert answer.status in (204, 401), answer
        session.revoke()
        self._await_sockets_closed([session])

    @precondition(lambda self: self.world.revoked_sessions())
    @rule(data=st.data(), node=NODES)
    def replay_revoked_credentials(self, data: st.DataObject, node: int) -> None:
        """An attacker holding a signed-out session's tokens gets nothing with them."""
        session = _newest(data, self.world.revoked_sessions())
        answer = self.http.request(node, "GET", "/v1/auth/me", token=session.access_token)
        assert answer.status == 401, f"a revoked access token answered {answer.status}"
        refreshed = self.http.request(node, "POST", "/v1/auth/refresh", json={"refresh_token": session.refresh_token})
        assert refreshed.status == 401, f"a revoked refresh token answered {refreshed.status}"
        self._open_socket(Session(session.person, session.access_token, "", session.session_id, revoked_at=session.revoked_at), node)

    @rule(role=st.sampled_from(["scanner", "agent"]), granted=st.booleans(), node=NODES)
    def change_role(self, role: str, granted: bool, node: int) -> None:
        person = self.scanner if role == "scanner" else self.agents[1]
        verb = "PUT" if granted else "DELETE"
        answer = self._call(node, verb, f"/v1/admin/users/{person.user_id}/roles/{role}", self.admin, expect=(200, 204, 401))
        if answer.status == 401:
            return
        if granted:
            person.roles.add(role)
        else:
            person.roles.discard(role)
            self.world.revoke_all(person)
            self._await_sockets_closed(self.world.sessions_of(person))

    @rule(index=st.integers(0, 2), node=NODES, other=NODES)
    def lock_and_unlock(self, index: int, node: int, other: int) -> None:
        """An admin locks a guest: signed out everywhere with the sockets closed, the right password refused on
        either node until the admin unlocks the account again."""
        person = self.guests[index]
        reason = {"reason": "model: checking a report of fraud"}
        self._call(node, "POST", f"/v1/admin/users/{person.user_id}/lock", self.admin, json=reason, expect=(200,))
        self.world.revoke_all(person)
        self._await_sockets_closed(self.world.sessions_of(person))
        refused = self.http.request(other, "POST", "/v1/auth/login", json={"email": person.email, "password": person.password})
        assert refused.status in (403, 429), f"a locked account's sign-in answered {refused.status}"
        self._call(other, "POST", f"/v1/admin/users/{person.user_id}/unlock", self.admin, json=reason, expect=(200,))

    @rule(index=st.integers(0, 2), node=NODES)
    def change_password(self, index: int, node: int) -> None:
        person = self.guests[index]
        session = next((s for s in self.world.sessions_of(person) if s.revoked_at is None), None)
        if session is None:
            return
        new_password = f"model-{uuid.uuid4().hex}"
        answer = self.http.request(node, "POST", "/v1/auth/password/change", token=session.access_token,
                                   json={"current_password": person.password, "new_password": new_password})  # fmt: skip
        assert answer.status in (204, 401, 429), answer
        if answer.status == 204:
            person.password = new_password
            self.world.revoke_all(person, keep=session)
            self._await_sockets_closed([s for s in self.world.sessions_of(person) if s is not session])

    @precondition(lambda self: any(s.socket is not None and s.socket.connected for s in self.world.live_sessions()))
    @rule(index=st.integers(0, 2), node=NODES)
    def ask_to_delete_an_account(self, index: int, node: int) -> None:
        """A guest asks for their account's deletion: refused, naming why, while a booking, an order, a payment or
        money of theirs is open; scheduled otherwise. They change their mind at once, so the run keeps them."""
        person = self.guests[index]
        answer = self._call(node, "POST", "/v1/me/deletion", person, expect=(202, 409, 429), json={"password": person.password})
        if answer.status == 429:
            # Every password check counts against the account's budget, a right one too.
            return
        blockers = self.market.call(lambda: deletion_blockers(person.user_id))
        if answer.status == 409:
            assert answer.body["reasons"], f"a deletion refused without a reason: {answer.body}"
        else:
            assert not blockers, f"a deletion was accepted while {[blocker.code for blocker in blockers]} was open"
        self._call(node, "DELETE", "/v1/me/deletion", person, expect=(204,) if answer.status == 202 else (404,))

    @rule(data=st.data(), listing=st.integers(0, 1))
    def follow_a_property(self, data: st.DataObject, listing: int) -> None:
        """Only the property's agent may follow its room; anyone else is refused."""
        session = _newest(data, [s for s in self.world.live_sessions() if s.socket and s.socket.connected])
        room = f"property:{self.world.listings[listing]}"
        ack = session.socket.request("rooms.join", {"room": room})  # type: ignore[union-attr]
        owner = self.agents[listing]
        may = session.person is owner and "agent" in owner.roles
        if ack.get("ok"):
            assert may, f"{session.person.user_id} was let into {room}"
            session.rooms.add(room)

    def _await_sockets_closed(self, sessions: list[Session]) -> None:
        deadline = time.monotonic() + REVOCATION_REACH_S + 0.5
        while time.monotonic() < deadline and any(s.socket and s.socket.connected for s in sessions):
            time.sleep(0.02)

    # Stays

    @rule(guest=st.integers(0, 2), listing=st.integers(0, 1), start=st.integers(20, 26), nights=st.integers(1, 3),
          node=NODES)  # fmt: skip
    def hold_a_stay(self, guest: int, listing: int, start: int, nights: int, node: int) -> None:
        self._hold_stay(guest, listing, start, nights, node)

    @rule(guest=st.integers(0, 2), listing=st.integers(0, 1), start=st.integers(20, 26), nights=st.integers(1, 3),
          method=PAYMENT_METHODS, node=NODES)  # fmt: skip
    def book_and_pay(self, guest: int, listing: int, start: int, nights: int, method: str, node: int) -> None:
        """The common journey in one step: hold the nights, pay, and the vendor collects."""
        stay = self._hold_stay(guest, listing, start, nights, node)
        paid = stay and self._start_payment("booking", stay.booking_id, stay.guest, method, node)
        if paid:
            self._vendor_answers(paid)

    def _hold_stay(self, guest: int, listing: int, start: int, nights: int, node: int) -> Stay | None:
        check_in = datetime.now(UTC).date() + timedelta(days=start)
        body = {"property_id": self.world.listings[listing], "check_in": str(check_in),
                "check_out": str(check_in + timedelta(days=nights)), "guests": 1}  # fmt: skip
        person = self.guests[guest]
        answer = self._call(node, "POST", "/v1/bookings", person, json=body, idempotent=True, expect=(201, 401, 409, 422, 429))
        if answer.status != 201:
            return None
        stay = Stay(answer.body["id"], person, self.world.listings[listing])
        self.world.stays.append(stay)
        return stay

    @precondition(lambda self: self.world.stays)
    @rule(data=st.data(), by_agent=st.booleans(), node=NODES)
    def cancel_a_stay(self, data: st.DataObject, by_agent: bool, node: int) -> None:
        stay = _newest(data, self.world.stays)
        actor = self.agents[self.world.listings.index(stay.property_id)] if by_agent else stay.guest
        self._call(node, "POST", f"/v1/bookings/{stay.booking_id}/cancel", actor, expect=(200, 401, 404, 409))

    # Conversations

    @precondition(lambda self: self.world.stays)
    @rule(data=st.data(), by_host=st.booleans(), node=NODES)
    def write_a_phone_number_about_a_stay(self, data: st.DataObject, by_host: bool, node: int) -> None:
        """The guest or the host of a stay writes a phone number (shown only while the stay is paid for); a stranger
        can neither read nor write the conversation."""
        stay = _newest(data, self.world.stays)
        sender = self.agents[self.world.listings.index(stay.property_id)] if by_host else stay.guest
        opened = self._call(node, "POST", "/v1/conversations", sender, json={"booking_id": stay.booking_id}, expect=(201, 401))
        if opened.status != 201:
            return
        conversation_id = opened.body["id"]
        if all(talk.conversation_id != conversation_id for talk in self.world.talks):
            self.world.talks.append(Talk(conversation_id, stay))
        message = {"client_id": uuid.uuid4().hex, "text": f"Call me on {invariants.PHONE_WRITTEN}"}
        path = f"/v1/conversations/{conversation_id}/messages"
        self._call(1 - node, "POST", path, sender, json=message, expect=(201, 401, 429))
        stranger = next(guest for guest in self.guests if guest is not stay.guest)
        self._call(node, "GET", path, stranger, expect=(401, 404))
        self._call(node, "POST", path, stranger, json={**message, "client_id": uuid.uuid4().hex}, expect=(401, 404))

    # Reviews

    @rule(fresh=st.booleans(), guest=st.integers(0, 2), listing=st.integers(0, 1), start=st.integers(20, 26),
          method=PAYMENT_METHODS, pick=st.integers(0, 3), by_host=st.booleans(), both=st.booleans(),
          overall=st.integers(1, 5), node=NODES)  # fmt: skip
    def review_a_stay(self, fresh: bool, guest: int, listing: int, start: int, method: str, pick: int, by_host: bool,
                      both: bool, overall: int, node: int) -> None:  # fmt: skip
        """A stay runs its course and is reviewed: a guest books and pays one (or one held already is taken), a month
        passes for the hourly job so every confirmed stay (all check out within 29 days) is completed; then its guest
        or its host reviews it, and maybe the other side too through the other node. Refused unless the stay is
        completed, or when that side reviewed it already. Every draw is made up front: what the marketplace answers
        must not change what Hypothesis draws."""
        held = len(self.world.stays)
        if fresh or not held:
            self.book_and_pay(guest, listing, start, 1, method, node)
            # The vendor's word confirms the stay only once its webhook is applied.
            self.market.call(self.market.quiet)
        if not self.world.stays:
            return
        self.market.call(lambda: self.market.finish_stays_later(STAYS_OVER))
        newer = len(self.world.stays) > held
        stay = self.world.stays[-1 if newer else -1 - pick % len(self.world.stays)]
        for turn, side in enumerate([by_host, not by_host][: 2 if both else 1]):
            self._review(stay, ReviewerRole.HOST if side else ReviewerRole.GUEST, overall, (node + turn) % 2)

    def _review(self, stay: Stay, side: ReviewerRole, overall: int, node: int) -> None:
        author = self.agents[self.world.listings.index(stay.property_id)] if side is ReviewerRole.HOST else stay.guest
        review = {"overall": overall, "ratings": dict.fromkeys(CATEGORIES[side], overall),
                  "comment": "Clear directions and a quiet flat."}  # fmt: skip
        path = f"/v1/bookings/{stay.booking_id}/reviews"
        answer = self._call(node, "POST", path, author, json=review, expect=(201, 401, 409, 429))
        if answer.status == 201:
            self.world.reviewed.setdefault(stay.booking_id, []).append(side.value)

    @precondition(lambda self: self.world.reviewed)
    @rule()
    def review_windows_close(self) -> None:
        """The review sweep runs past every window (stays end within 29 days, windows close 14 days later): the
        reviews the other side never answered become public and count."""
        self.world.reviews_swept_to = self.market.call(lambda: self.market.close_review_windows_later(REVIEWS_CLOSED))

    # Tickets

    @precondition(lambda self: any(not event.cancelled for event in self.world.events))
    @rule(buyer=st.integers(0, 2), kind=st.integers(0, 1), quantity=st.integers(1, 3), node=NODES)
    def hold_tickets(self, buyer: int, kind: int, quantity: int, node: int) -> None:
        self._hold_tickets(buyer, kind, quantity, node)

    @precondition(lambda self: any(not event.cancelled for event in self.world.events))
    @rule(buyer=st.integers(0, 2), kind=st.integers(0, 1), quantity=st.integers(1, 3), method=PAYMENT_METHODS, node=NODES)
    def buy_tickets(self, buyer: int, kind: int, quantity: int, method: str, node: int) -> None:
        """Hold tickets, pay, and the vendor collects: the tickets are issued."""
        order = self._hold_tickets(buyer, kind, quantity, node)
        paid = order and self._start_payment("ticket_order", order.order_id, order.buyer, method, node)
        if paid:
            self._vendor_answers(paid)

    def _hold_tickets(self, buyer: int, kind: int, quantity: int, node: int) -> Order | None:
        event = next(event for event in reversed(self.world.events) if not event.cancelled)
        body = {"event_id": event.event_id, "lines": [{"ticket_type_id": event.ticket_type_ids[kind], "quantity": quantity}],
                "holder_name": "Amani Njoroge"}  # fmt: skip
        person = self.guests[buyer]
        answer = self._call(node, "POST", "/v1/ticket-orders", person, json=body, idempotent=True,
                            expect=(201, 401, 404, 409, 422, 429))  # fmt: skip
        if answer.status != 201:
            return None
        order = Order(answer.body["id"], person, event.event_id)
        self.world.orders.append(order)
        return order

    @precondition(lambda self: self.world.orders)
    @rule(data=st.data(), node=NODES)
    def cancel_a_ticket_order(self, data: st.DataObject, node: int) -> None:
        order = _newest(data, self.world.orders)
        self._call(node, "POST", f"/v1/ticket-orders/{order.order_id}/cancel", order.buyer, expect=(200, 401, 404, 409))

    # Only an event that sold something is worth cancelling, and a run hosts a few events at most.
    @precondition(lambda self: len(self.world.events) < 4 and any(
        order.event_id == self.world.events[-1].event_id for order in self.world.orders))
    @rule(node=NODES)
    def cancel_the_event(self, node: int) -> None:
        event = next(event for event in reversed(self.world.events) if not event.cancelled)
        answer = self._call(node, "POST", f"/v1/events/{event.event_id}/cancel", event.host, expect=(200, 401, 409))
        if answer.status == 200:
            event.cancelled = True
            self._host_event(self.agents[0])

    @precondition(lambda self: self.world.orders)
    @rule(data=st.data(), over_socket=st.booleans(), node=NODES)
    def scan_a_ticket(self, data: st.DataObject, over_socket: bool, node: int) -> None:
        order = _newest(data, self.world.orders)
        holder = next((s for s in self.world.live_sessions() if s.person is order.buyer), None)
        door = next((s for s in self.world.live_sessions() if s.person is self.scanner), None)
        if holder is None or door is None:
            return
        listed = self.http.request(node, "GET", "/v1/tickets", token=holder.access_token)
        if listed.status != 200:
            return
        for ticket in listed.body["items"]:
            if ticket["order_id"] != order.order_id or not ticket.get("secret"):
                continue
            scan = {"secret": ticket["secret"], "type": "entry", "gate": "A", "nonce": uuid.uuid4().hex,
                    "scanned_at": datetime.now(UTC).isoformat()}  # fmt: skip
            result = self._scan(door, order.event_id, scan, over_socket, node)
            if result == "ok":
                self.world.admitted[ticket["id"]] = self.world.admitted.get(ticket["id"], 0) + 1
                assert self.world.admitted[ticket["id"]] == 1, f"ticket {ticket['id']} admitted twice"
                assert "scanner" in self.scanner.roles, "a scanner whose role was removed admitted a ticket"
                cancelled = next(e.cancelled for e in self.world.events if e.event_id == order.event_id)
                assert not cancelled, f"ticket {ticket['id']} of a cancelled event was admitted"

    def _scan(self, door: Session, event_id: str, scan: dict[str, Any], over_socket: bool, node: int) -> str | None:
        if over_socket and door.socket is not None and door.socket.connected:
            ack = door.socket.request("ticket.scan", {**scan, "event_id": event_id})
            return ack.get("result") if ack.get("ok") else None
        answer = self.http.request(node, "POST", f"/v1/events/{event_id}/scans", token=door.access_token, json=scan)
        assert answer.status in (200, 401, 403, 404, 422), answer
        return answer.body.get("result") if answer.status == 200 else None

    # Payments

    @precondition(lambda self: self.world.stays or self.world.orders)
    # Hypothesis favours False: the payer paying, and the vendor calling back, are what a run does most.
    @precondition(lambda self: self.world.stays or self.world.orders)
    @rule(data=st.data(), method=PAYMENT_METHODS, declines=st.booleans(), silent=st.booleans(), node=NODES)
    def start_paying(self, data: st.DataObject, method: str, declines: bool, silent: bool, node: int) -> None:
        targets = [("booking", s.booking_id, s.guest) for s in self.world.stays] + \
                  [("ticket_order", o.order_id, o.buyer) for o in self.world.orders]  # fmt: skip
        purpose, target_id, payer = _newest(data, targets)
        self._start_payment(purpose, target_id, payer, method, node, pays=not declines, silent=silent)

    def _start_payment(self, purpose: str, target_id: str, payer: Person, method: str, node: int, *, pays: bool = True,
                       silent: bool = False) -> Paid | None:  # fmt: skip
        body: dict[str, Any] = {"purpose": purpose, "target_id": target_id, "method": method}
        if method == "mpesa":
            body["phone"] = (NEVER_ANSWERS if silent else PAYS) if pays else DECLINES
        answer = self._call(node, "POST", "/v1/payments", payer, json=body, idempotent=True,
                            expect=(201, 401, 404, 409, 422, 429, 503))  # fmt: skip
        if answer.status != 201:
            return None
        paid = Paid(answer.body["id"], purpose, target_id, method, node, payer, answer.body, pays)
        self.world.payments.append(paid)
        return paid

    @precondition(lambda self: self.world.payments)
    @rule(data=st.data())
    def vendor_settles(self, data: st.DataObject) -> None:
        """The payer answers at the vendor: the vendor collects (or declines) and notifies the gateway."""
        self._vendor_answers(_newest(data, self.world.payments))

    def _vendor_answers(self, paid: Paid) -> None:
        reference = self.market.call(lambda: self._reference(paid))
        if reference is None:
            return
        vendors = self.market.vendors
        if paid.method == "mpesa":
            # A payment made on the Paybill has no push to answer: its money is in already.
            if reference in vendors.daraja.pushes:
                self.market.call(lambda: _run(lambda: vendors.daraja.settle_now(reference)))
        elif paid.method == "stripe":
            method = "pm_card_visa" if paid.pays else "pm_card_chargeDeclined"
            self.market.call(lambda: _run(lambda: _stripe_confirm(vendors.stripe, reference, method)))
        elif paid.pays and paid.answer.get("approve_url"):
            self.market.call(lambda: _run(lambda: _paypal_approve(vendors.paypal, reference)))

    @precondition(lambda self: self.world.payments)
    @rule(data=st.data(), node=NODES)
    def vendor_repeats_itself(self, data: st.DataObject, node: int) -> None:
        """A vendor sends one of its notifications about this run's payments again, to any node, as vendors do."""
        sent = self._deliveries()
        if not sent:
            return
        delivery = sent[data.draw(st.integers(0, 1_000)) % len(sent)]
        path = delivery.url.split("/webhooks/", 1)[1]
        headers = {name: value for name, value in delivery.headers.items() if name.lower() != "content-length"}
        self.http.post_raw(f"{self.market.nodes[node].url}/webhooks/{path}", delivery.body, headers)

    def _deliveries(self) -> list[Any]:
        references = [ref.encode() for paid in self.world.payments if (ref := self.market.call(lambda: self._reference(paid)))]
        vendors = self.market.vendors
        return [delivery for delivery in [*vendors.daraja.callbacks, *vendors.stripe.notifications.deliveries]
                if any(reference in delivery.body for reference in references)]  # fmt: skip

    @precondition(lambda self: any(paid.method == "mpesa" for paid in self.world.payments))
    @rule(data=st.data(), forgery=FORGERIES, node=NODES)
    def impostor_calls_back(self, data: st.DataObject, forgery: str, node: int) -> None:
        """Someone who learnt the callback path posts a success Safaricom never sent."""
        paid = _newest(data, [paid for paid in self.world.payments if paid.method == "mpesa"])
        reference = self.market.call(lambda: self._reference(paid))
        if reference is None:
            return
        used = [c for c in self._deliveries() if b"MpesaReceiptNumber" in c.body]
        body = _forged_callback(reference, forgery, orjson.loads(used[0].body) if used else None)
        url = f"{self.market.nodes[node].url}/webhooks/mpesa/{MPESA_CALLBACK_TOKEN}"
        self.http.post_raw(url, orjson.dumps(body), {"Content-Type": "application/json"})

    async def _reference(self, paid: Paid) -> str | None:
        payment = await self.market.payment(paid.payment_id)
        return payment.provider_reference if payment else None

    # Prices and calendars

    @rule(listing=st.integers(0, 1), weekend=st.sampled_from([None, 450_000]), weekly=st.integers(0, 30),
          min_nights=st.integers(1, 2), season_start=st.integers(18, 26), node=NODES)  # fmt: skip
    def agent_sets_prices(self, listing: int, weekend: int | None, weekly: int, min_nights: int, season_start: int, node: int) -> None:
        """Weekend and seasonal prices, a weekly discount and a minimum stay, over the nights guests hold."""
        start = datetime.now(UTC).date() + timedelta(days=season_start)
        season = {"name": "High", "start": str(start), "end": str(start + timedelta(days=4)), "nightly_price_minor": 520_000}
        rules = {"weekend_price_minor": weekend, "weekly_discount_percent": weekly, "min_nights": min_nights, "seasons": [season]}
        property_id = self.world.listings[listing]
        self._call(node, "PATCH", f"/v1/properties/{property_id}", self.agents[listing], json={"stay_rules": rules},
                   expect=(200, 401, 403))  # fmt: skip

    @rule(listing=st.integers(0, 1), start=st.integers(18, 28), nights=st.integers(0, 4), node=NODES)
    def another_site_books(self, listing: int, start: int, nights: int, node: int) -> None:
        """The listing's calendar elsewhere now shows [start, start + nights) taken (nothing, for 0); its feed syncs."""
        property_id = self.world.listings[listing]
        first = datetime.now(UTC).date() + timedelta(days=start)
        shown = {first + timedelta(days=n) for n in range(nights)}
        self.market.feeds.files[property_id] = airbnb_feed(*([(first, first + timedelta(days=nights))] if nights else [])).encode()
        if property_id not in self.world.feeds:
            body = {"url": f"{self.market.feeds.url}/{property_id}.ics", "name": "Airbnb"}
            path = f"/v1/properties/{property_id}/calendar-imports"
            added = self._call(node, "POST", path, self.agents[listing], json=body, expect=(201, 401, 403))
            if added.status != 201:
                return
            self.world.feeds[property_id] = added.body["id"]
        self.market.call(self.market.sync_calendars)
        self.world.feed_nights[property_id] = shown
        found = self.market.call(lambda: invariants.calendars(self.market, self.world, just_synced=True))
        assert not found, "\n".join(found)

    # Time

    @precondition(lambda self: self.world.stays or self.world.orders)
    @rule(later=TIME_STEPS)
    def time_passes(self, later: timedelta) -> None:
        self.market.call(lambda: self.market.let_time_pass(later))

    # After every step

    @invariant()
    def holds_whatever_happened(self) -> None:
        type(self).steps_run += 1
        self.market.call(self.market.quiet)
        found = self.market.call(lambda: _checked(self.market, self.world)) + invariants.access(self.world)
        found += invariants.contacts(self.world, lambda path, person: self._call(0, "GET", path, person, expect=(200, 401)))
        hosts = dict(zip(self.world.listings, self.agents, strict=True))
        found += invariants.sealed(self.world, hosts, lambda path, person: self._call(1, "GET", path, person, expect=(200, 401)))
        assert not found, "\n".join(found)

    # Requests

    def _call(self, node: int, method: str, path: str, person: Person, *, expect: tuple[int, ...], json: Any = None,
              idempotent: bool = False) -> Answer:  # fmt: skip
        session = next((s for s in reversed(self.world.sessions) if s.person is person and s.revoked_at is None), None)
        if session is None:
            session = self._sign_in(person, node, with_socket=False)
        answer = self.http.request(node, method, path, token=session.access_token, json=json, idempotent=idempotent)
        assert answer.status in expect, f"{method} {path} answered {answer.status}: {answer.body}"
        return answer


def _newest(data: st.DataObject, items: list[Any]) -> Any:
    """One of `items`, the newest most likely: Hypothesis favours the smallest draw, and the newest holds are the
    ones still open. An index is drawn, so a failing run's report reads `Draw 1: 0`, not the whole item."""
    return items[-1 - data.draw(st.integers(0, len(items) - 1))]


async def _checked(market: Marketplace, world: World) -> list[str]:
    return (
        await invariants.money(market, world) + await invariants.inventory(market, world) + await invariants.ledger(market, world)
        + await invariants.prices(market, world) + await invariants.calendars(market, world)
        + await invariants.reconciliation(market) + await money_out(market, world) + await invariants.reviews(market, world)
    )  # fmt: skip


async def _run(work: Any) -> None:
    work()


def _stripe_confirm(stripe: Any, intent_id: str, method: str) -> None:
    intent = stripe.intents.get(intent_id)
    if intent is not None and intent["status"] in ("requires_payment_method", "requires_confirmation"):
        stripe.confirm(intent_id, method)


def _paypal_approve(paypal: Any, order_id: str) -> None:
    order = paypal.orders.get(order_id)
    if order is not None and order.get("status") in ("CREATED", "PAYER_ACTION_REQUIRED"):
        paypal.approve(order_id)


def _forged_callback(checkout_id: str, forgery: str, genuine: dict[str, Any] | None) -> dict[str, Any]:
    """A `ResultCode: 0` callback for `checkout_id`, wrong in the way `forgery` names."""
    items: dict[str, Any] = {"Amount": 1.0, "MpesaReceiptNumber": f"FAKE{uuid.uuid4().hex[:6].upper()}",
                             "TransactionDate": 20261203101010, "PhoneNumber": 254712345678}  # fmt: skip
    if forgery == "no_amount":
        del items["Amount"]
    elif forgery == "nan_amount":
        items["Amount"] = "NaN"
    elif forgery == "huge_amount":
        items["Amount"] = 1e30
    elif forgery == "wrong_phone":
        items["PhoneNumber"] = 254799999999
    elif forgery == "used_receipt" and genuine is not None:
        metadata = genuine["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
        items["MpesaReceiptNumber"] = next(item["Value"] for item in metadata if item["Name"] == "MpesaReceiptNumber")
    callback = {"MerchantRequestID": "29115-34620561-1", "CheckoutRequestID": checkout_id, "ResultCode": 0,
                "ResultDesc": "The service request is processed successfully.",
                "CallbackMetadata": {"Item": [{"Name": name, "Value": value} for name, value in items.items()]}}  # fmt: skip
    return {"Body": {"stkCallback": callback}}
