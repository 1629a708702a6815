"""Making a listing's imported blocks match a feed: nights the feed dropped are freed, new ones claimed, and nights a
booking here already holds are answered as conflicts, all in one transaction."""

from datetime import date

from pymongo.asynchronous.client_session import AsyncClientSession

from documents.calendar_feed import CalendarImport, ImportConflict
from documents.night_claim import ClaimKind, NightClaim, stored_date
from gateway.bookings.claims import NightsTaken, claim_nights, release_matching
from gateway.database import in_transaction
from gateway.properties.search_cache import bump_search_version
from gateway.services import Services

# A hold or a block may take a night between the read and the claim; the next attempt sees it taken.
ATTEMPTS = 3


async def match_feed_nights(
    services: Services, feed: CalendarImport, wanted: set[date], today: date
) -> tuple[int, list[ImportConflict]]:
    """Make the feed's blocks from `today` on exactly `wanted` less the nights others hold; answer how many nights
    the feed blocks and the nights a booking holds that the feed wants. Past nights are left as they were."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            outcome = await in_transaction(services, lambda session: _match(session, feed, wanted, today))
            break
        except NightsTaken:
            if attempt == ATTEMPTS:
                raise
    await bump_search_version(services)
    return outcome


async def _match(
    session: AsyncClientSession, feed: CalendarImport, wanted: set[date], today: date
) -> tuple[int, list[ImportConflict]]:
    from_today = {"$gte": stored_date(today)}
    mine = NightClaim.get_pymongo_collection().find(
        {"import_id": feed.id, "night": from_today}, {"night": 1}, session=session
    )
    held = {raw["night"].date() for raw in await mine.to_list()}
    dropped = held - wanted
    if dropped:
        await release_matching(
            session, {"import_id": feed.id, "night": {"$in": [stored_date(night) for night in dropped]}}
        )
    missing = sorted(wanted - held)
    others = await NightClaim.find(
        {"property_id": feed.property_id, "night": {"$in": [stored_date(night) for night in missing]}}, session=session
    ).to_list()
    taken = {claim.night for claim in others}
    free = [night for night in missing if night not in taken]
    if free:
        await claim_nights(session, feed.property_id, free, ClaimKind.IMPORTED, import_id=feed.id)
    # A night the host blocked, or another feed took, is blocked either way; only a booking's night is a conflict.
    conflicts = [
        ImportConflict(night=claim.night, booking_id=claim.booking_id)
        for claim in sorted(others, key=lambda claim: claim.night)
        if claim.kind == ClaimKind.BOOKING and claim.booking_id is not None
    ]
    return len(held - dropped) + len(free), conflicts
