"""Stays: the bookings a guest made, and an agent's listings and the bookings at them."""

from documents.booking import Booking
from documents.property import Property, PropertyStatus
from gateway.privacy.records import export_documents, id_or_pseudonym, pseudonymise_documents
from gateway.privacy.registry import DataSubject, PersonalData
from gateway.properties.listings import archive_listing
from gateway.security.callers import Caller
from gateway.services import Services


def _bookings_erased(subject: DataSubject) -> dict[str, str]:
    return {"guest_id": subject.pseudonym}


# Bookings are the tax record of a stay (what was sold, when, for how much): kept, naming the pseudonym.
BOOKINGS = PersonalData(
    "bookings",
    "stays booked as a guest, and stays at an agent's listings",
    erase=pseudonymise_documents(Booking, id_or_pseudonym("guest_id"), _bookings_erased),
    export=export_documents(Booking, lambda s: {"$or": [{"guest_id": s.user_id}, {"agent_id": s.user_id}]}),
)
BOOKINGS_HOSTED = PersonalData(
    "bookings_hosted",
    "the agent named on bookings at their listings",
    erase=pseudonymise_documents(Booking, id_or_pseudonym("agent_id"), lambda s: {"agent_id": s.pseudonym}),
)


async def _erase_listings(services: Services, subject: DataSubject) -> None:
    """Each live listing is archived as its agent would archive it (out of search, photos removed), then the
    listings name the pseudonym."""
    agent = Caller(user_id=subject.user_id, roles=frozenset({"agent"}), session_id="erasure")
    live = [PropertyStatus.DRAFT.value, PropertyStatus.PUBLISHED.value]
    for listing in await Property.find({"agent_id": subject.user_id, "status": {"$in": live}}).to_list():
        await archive_listing(services, agent, str(listing.id))
    rename = pseudonymise_documents(Property, id_or_pseudonym("agent_id"), lambda s: {"agent_id": s.pseudonym})
    await rename(services, subject)


LISTINGS = PersonalData(
    "listings",
    "an agent's listings: text, address, prices, photos",
    erase=_erase_listings,
    export=export_documents(Property, lambda s: {"agent_id": s.user_id}),
)
