"""Published listings and guest accounts for the load test, written into the gateway's own database with the
gateway's settings. Guests are seeded rather than signed up: a sign-up takes a code from an inbox, and sign-ups
from one address are limited, as a load run's all come from the loopback."""

import asyncio
import uuid
from datetime import UTC, datetime

from pydantic import SecretStr

from documents.property import Address, GeoPoint, Property, PropertyStatus
from documents.user import User
from gateway.database import create_mongo_client, init_documents
from gateway.security.passwords import PasswordHasher
from gateway.settings import Settings

NAIROBI = (36.8219, -1.2921)


def _with_embedded_urls(settings: Settings) -> Settings:
    """The database `lango serve` uses: the configured one, or the embedded server it starts on its port."""
    if settings.mongodb.url is not None:
        return settings
    url = f"mongodb://127.0.0.1:{settings.embedded.mongodb_port}/?directConnection=true"
    return settings.model_copy(update={"mongodb": settings.mongodb.model_copy(update={"url": SecretStr(url)})})


async def seed_listings(settings: Settings, count: int, guest_password: str) -> tuple[list[str], list[str]]:
    """`count` published listings of a new agent near Nairobi and `count` guests who sign in with `guest_password`;
    answers the listings' ids and the guests' emails, one of each per simulated guest."""
    settings = _with_embedded_urls(settings)
    # One hash for every guest: they share the password, and bcrypt at the gateway's cost takes a while each.
    password_hash = await PasswordHasher(settings.auth.bcrypt_cost).hash(guest_password)
    client = create_mongo_client(settings.mongodb)
    try:
        await init_documents(client, settings.mongodb, create_indexes=False)
        agent = User(email=f"load-agent-{uuid.uuid4().hex[:8]}@example.com", password_hash="not-used", roles=["agent"])
        await agent.insert()
        listings = [
            Property(
                agent_id=str(agent.id),
                title=f"Load test flat {number}",
                description_html="<p>A flat the load test books.</p>",
                type="apartment",
                bedrooms=2,
                bathrooms=1,
                max_guests=4,
                amenities=["wifi"],
                nightly_price_minor=450_000,
                cleaning_fee_minor=50_000,
                currency="KES",
                location=GeoPoint(coordinates=(NAIROBI[0] + number * 0.001, NAIROBI[1])),
                address=Address(county="Nairobi", town="Kilimani"),
                status=PropertyStatus.PUBLISHED,
            )
            for number in range(count)
        ]
        inserted = await Property.insert_many(listings)
        now = datetime.now(UTC)
        guests = [
            User(email=f"load-guest-{uuid.uuid4().hex[:12]}@example.com", email_verified_at=now, password_hash=password_hash)
            for _ in range(count)
        ]
        await User.insert_many(guests)
    finally:
        await client.close()
    return [str(listing_id) for listing_id in inserted.inserted_ids], [guest.email for guest in guests]  # type: ignore[misc]


def seed(settings: Settings, count: int, guest_password: str) -> tuple[list[str], list[str]]:
    return asyncio.run(seed_listings(settings, count, guest_password))
