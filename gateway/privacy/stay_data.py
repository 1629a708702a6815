"""Stays: the bookings a guest made, and an agent's listings and the bookings at them."""

from documents.booking import Booking
from documents.property import Property, PropertyStatus
from gateway.privacy.records import export_documents, id_or_pseudonym, pseudonymise_documents
from gateway.privacy.registry import DataSubject, PersonalData


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
LISTINGS = PersonalData(
    "listings",
    "an agent's listings: text, address, prices, photos",
    # Archived, so they leave search; their photos go with the agent's files.
    erase=pseudonymise_documents(
        Property,
        id_or_pseudonym("agent_id"),
        lambda s: {"agent_id": s.pseudonym, "status": PropertyStatus.ARCHIVED.value},
    ),
    export=export_documents(Property, lambda s: {"agent_id": s.user_id}),
)
