"""Seeding the demo marketplace through the domain's own flows (the same checks as the API); what is there already is
kept, so running it again adds nothing."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp

from documents.hosted_event import EventStatus, HostedEvent
from documents.property import Property, PropertyStatus
from documents.stored_file import FileKind
from documents.ticket_type import TicketType
from documents.user import User
from gateway.accounts.context import requires_mfa
from gateway.accounts.provisioning import provision_account
from gateway.accounts.roles import change_role
from gateway.accounts.two_factor import begin_enrolment, confirm_enrolment, open_totp_secret
from gateway.demo.catalogue import (
    AGENTS,
    DEMO_PASSWORD,
    EVENT,
    GUESTS,
    LISTINGS,
    SCANNER,
    TICKET_TYPES,
    DemoListing,
    DemoPerson,
)
from gateway.demo.guests import seed_guest_activity
from gateway.demo.photos import listing_photos
from gateway.files.uploads import upload_through_gateway
from gateway.hosted_events.hosting import (
    EventFields,
    TicketTypeFields,
    add_ticket_type,
    assign_scanner,
    create_event,
    publish_event,
)
from gateway.problems import Conflict
from gateway.properties.listings import ListingFields, create_listing, publish_listing
from gateway.redis_client import redis_key
from gateway.security.callers import Caller
from gateway.services import Services

# One run seeds at a time: a second one waits, then finds everything there. Longer than any run takes.
SEEDING_LOCK_S = 600
# The event is a month out, from 19:00 to 23:00 in Nairobi (UTC+3).
EVENT_IN_DAYS = 30
EVENT_STARTS_UTC_HOUR = 16
EVENT_HOURS = 4


class DemoRefused(Conflict):
    slug, title = "demo-refused", "The demo marketplace is not seeded here"


@dataclass(frozen=True)
class SeededAccount:
    person: DemoPerson
    user: User
    # For accounts whose role needs two-factor: the authenticator secret the demo turned it on with.
    totp_secret: str | None


@dataclass
class DemoReport:
    accounts: list[SeededAccount]
    listings: int = 0
    event_title: str = ""
    # What this run added (accounts, photos, listings, the event, ticket types): 0 when it was all there.
    created: int = 0


class _Bytes:
    """A photo handed to the upload flow as the HTTP edge hands it a request body."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def read(self, n: int = -1) -> bytes:
        chunk, self._data = (self._data, b"") if n < 0 else (self._data[:n], self._data[n:])
        return chunk


def _acting_as(user: User) -> Caller:
    # The demo does what the account's owner would do through the API, under their name.
    return Caller(user_id=str(user.id), roles=frozenset(user.roles), session_id="demo")


async def seed_demo(services: Services) -> DemoReport:
    """Agents with photographed listings in Nairobi, Mombasa and Kisumu, a published event with ticket types and door
    staff, and guests with stays (some paid) and paid ticket orders; refused in production, where its well-known password would be a way in."""
    if services.settings.environment == "production":
        raise DemoRefused("its accounts share a published password: never in production")
    lock = services.redis.lock(
        redis_key(services.settings.redis, "demo", "seeding"), timeout=SEEDING_LOCK_S, blocking_timeout=SEEDING_LOCK_S
    )
    async with lock:
        return await _seed(services)


async def _seed(services: Services) -> DemoReport:
    report = DemoReport(accounts=[])
    agents = {city: await _account(services, person, report) for city, person in AGENTS.items()}
    for city, agent in agents.items():
        for listing in LISTINGS[city]:
            await _listing(services, _acting_as(agent.user), listing, report)
    scanner = await _account(services, SCANNER, report)
    guests = [await _account(services, guest, report) for guest in GUESTS]
    event = await _event(services, _acting_as(agents["nairobi"].user), scanner.user, report)
    acting = [(_acting_as(guest.user), guest.person.name, guest.person.phone) for guest in guests]
    report.created += await seed_guest_activity(services, acting, event)
    return report


async def _account(services: Services, person: DemoPerson, report: DemoReport) -> SeededAccount:
    made = await provision_account(
        services, email=person.email, phone=person.phone, password=DEMO_PASSWORD, roles=person.roles, via="demo"
    )
    report.created += made.created
    user = made.user
    for role in person.roles:
        if role not in user.roles:
            # An account of this address made some other way: it gets its demo role as an operator grants one.
            user = await change_role(services, None, str(user.id), role, granted=True)
    secret = None
    if requires_mfa(services.settings, user):
        if not user.mfa_enabled:
            # The enrolment a phone would go through, with the code an authenticator app would show.
            enrolment = await begin_enrolment(services, user)
            await confirm_enrolment(services, await User.get(user.id) or user, pyotp.TOTP(enrolment.secret).now())
            user = await User.get(user.id) or user
        if user.totp_secret is not None:
            secret = open_totp_secret(services.totp_keys, user.id, user.totp_secret).secret
    seeded = SeededAccount(person, user, secret)
    report.accounts.append(seeded)
    return seeded


async def _listing(services: Services, agent: Caller, listing: DemoListing, report: DemoReport) -> None:
    report.listings += 1
    existing = await Property.find_one(
        {"agent_id": agent.user_id, "title": listing.title, "status": {"$ne": PropertyStatus.ARCHIVED.value}}
    )
    if existing is None:
        photo_ids = []
        for photo in await listing_photos(listing.title, listing.palette):
            stored = await upload_through_gateway(
                services, agent, FileKind.PHOTO, "image/jpeg", _Bytes(photo), len(photo)
            )
            photo_ids.append(str(stored.id))
        existing = await create_listing(services, agent, ListingFields.model_validate(listing.fields(photo_ids)))
        report.created += 1 + len(photo_ids)
    if existing.status == PropertyStatus.DRAFT:
        await publish_listing(services, agent, str(existing.id))


async def _event(services: Services, host: Caller, scanner: User, report: DemoReport) -> HostedEvent:
    report.event_title = EVENT["title"]
    event = await HostedEvent.find_one(
        {"host_id": host.user_id, "title": EVENT["title"], "status": {"$ne": EventStatus.CANCELLED.value}}
    )
    if event is None:
        day = (datetime.now(UTC) + timedelta(days=EVENT_IN_DAYS)).date()
        starts_at = datetime(day.year, day.month, day.day, EVENT_STARTS_UTC_HOUR, tzinfo=UTC)
        fields = EventFields.model_validate(
            {**EVENT, "starts_at": starts_at, "ends_at": starts_at + timedelta(hours=EVENT_HOURS)}
        )
        event = await create_event(services, host, fields)
        report.created += 1
    event_id = str(event.id)
    present = {ticket_type.name for ticket_type in await TicketType.find({"event_id": event.id}).to_list()}
    for name, price_minor, quantity in TICKET_TYPES:
        if name not in present:
            fields = TicketTypeFields.model_validate(
                {
                    "name": name,
                    "price_minor": price_minor,
                    "currency": "KES",
                    "quantity": quantity,
                    "sales_start": datetime.now(UTC),
                    "sales_end": event.starts_at,
                }
            )
            await add_ticket_type(host, event_id, fields)
            report.created += 1
    if event.status == EventStatus.DRAFT:
        await publish_event(host, event_id)
    await assign_scanner(services, host, event_id, str(scanner.id))
    return await HostedEvent.get(event.id) or event
