"""Quoting a stay before holding it: the listing a guest may book, and its price by the calculation the hold uses."""

from datetime import date

from pydantic import BaseModel

from documents.booking import PriceBreakdown
from documents.property import Property, PropertyStatus
from gateway.bookings.problems import PropertyNotBookable
from gateway.pricing.stays import ListingTerms, quote_stay
from gateway.properties.listings import listing_for
from gateway.security.callers import Caller
from gateway.settings import Settings


class Quote(BaseModel):
    property_id: str
    check_in: date
    check_out: date
    guests: int
    price: PriceBreakdown


async def bookable_listing(caller: Caller, property_id: str) -> Property:
    """A published listing the caller may see: 404 when they cannot, 409 property-not-bookable when it is not live."""
    listing = await listing_for(caller, property_id)
    if listing.status != PropertyStatus.PUBLISHED:
        raise PropertyNotBookable("the listing is not published")
    return listing


async def quote_for(
    settings: Settings, caller: Caller, property_id: str, check_in: date, check_out: date, guests: int
) -> Quote:
    """What holding these nights would cost now, or the 422 naming the rules the stay breaks."""
    listing = await bookable_listing(caller, property_id)
    price = quote_stay(
        ListingTerms.of(listing),
        check_in,
        check_out,
        guests,
        settings.bookings,
        settings.commission.stays,
        location="query",
    )
    return Quote(property_id=str(listing.id), check_in=check_in, check_out=check_out, guests=guests, price=price)
