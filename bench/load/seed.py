"""Published listings for the load test, written into the gateway's own database with the gateway's settings."""

import asyncio
import uuid

from pydantic import SecretStr

from documents.property import Address, GeoPoint, Property, PropertyStatus
from documents.user import User
from gateway.database import create_mongo_client, init_documents
from gateway.settings import Settings

NAIROBI = (36.8219, -1.2921)


def _with_embedded_urls(settings: Settings) -> Settings:
    """The database `lango serve` uses: the configured one, or the embedded server it starts on its port."""
    if settings.mongodb.url is not None:
        return settings
    url = f"mongodb://127.0.0.1:{settings.embedded.mongodb_port}/?directConnection=true"
    return settings.model_copy(update={"mongodb": settings.mongodb.model_copy(update={"url": SecretStr(url)})})


async def seed_listings(settings: Settings, count: int) -> list[str]:
    """`count` published listings of a new agent near Nairobi; answers their ids, one per simulated guest."""
    settings = _with_embedded_urls(settings)
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
    finally:
        await client.close()
    return [str(listing_id) for listing_id in inserted.inserted_ids]


def seed(settings: Settings, count: int) -> list[str]:
    return asyncio.run(seed_listings(settings, count))
