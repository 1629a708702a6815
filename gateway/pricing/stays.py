"""What a stay costs and whether the listing's rules allow it: the one calculation quotes, holds and search share."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from documents.booking import NightPrice, PriceBreakdown
from documents.night_claim import nights_of_stay
from documents.property import Property
from documents.stay_rules import WEEKDAYS, WEEKEND_NIGHTS, StayRules
from gateway.ledger.commission import platform_fee_minor
from gateway.pricing.problems import StayNotAllowed
from gateway.settings import BookingSettings, CommissionRule

WEEK_NIGHTS = 7
MONTH_NIGHTS = 28


@dataclass(frozen=True)
class ListingTerms:
    """The parts of a listing a price or a stay rule reads."""

    nightly_price_minor: int
    cleaning_fee_minor: int
    currency: str
    max_guests: int
    rules: StayRules

    @classmethod
    def of(cls, listing: Property) -> "ListingTerms":
        return cls(
            listing.nightly_price_minor,
            listing.cleaning_fee_minor,
            listing.currency,
            listing.max_guests,
            listing.stay_rules,
        )

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> "ListingTerms":
        """From a raw `properties` row holding the fields in TERMS_FIELDS."""
        rules = StayRules.model_validate(row["stay_rules"]) if row.get("stay_rules") else StayRules()
        return cls(row["nightly_price_minor"], row["cleaning_fee_minor"], row["currency"], row["max_guests"], rules)


# What a search projects to price a stay.
TERMS_FIELDS = ("nightly_price_minor", "cleaning_fee_minor", "currency", "max_guests", "stay_rules")


@dataclass(frozen=True)
class RuleBreak:
    """A stay rule the asked dates or guests break: the request field it is about, the rule's stable name, and why."""

    field: str
    rule: str
    message: str


def today_utc() -> date:
    return datetime.now(UTC).date()


def stay_rule_breaks(
    terms: ListingTerms, check_in: date, check_out: date, guests: int, today: date, settings: BookingSettings
) -> list[RuleBreak]:
    """Every rule of the platform and of the listing that this stay breaks; none when it may be booked."""
    rules = terms.rules
    breaks: list[RuleBreak] = []
    window = min(settings.max_advance_days, rules.booking_window_days or settings.max_advance_days)
    if check_in < today:
        breaks.append(RuleBreak("check_in", "check_in_past", "check_in is in the past"))
    elif check_in < today + timedelta(days=rules.advance_notice_days):
        breaks.append(
            RuleBreak("check_in", "advance_notice", f"this listing needs {rules.advance_notice_days} days' notice")
        )
    if check_in > today + timedelta(days=window):
        breaks.append(RuleBreak("check_in", "booking_window", f"check_in may be at most {window} days ahead"))
    if rules.check_in_days and WEEKDAYS[check_in.weekday()] not in rules.check_in_days:
        breaks.append(RuleBreak("check_in", "check_in_day", f"check-in is on {', '.join(rules.check_in_days)} only"))
    nights = (check_out - check_in).days
    if nights <= 0:
        breaks.append(RuleBreak("check_out", "stay_length", "check_out must be after check_in"))
    else:
        season = rules.season_of(check_in)
        min_nights = (season.min_nights if season else None) or rules.min_nights
        max_nights = min(
            settings.max_nights, (season.max_nights if season else None) or rules.max_nights or settings.max_nights
        )
        during = f" when arriving in {season.name}" if season else ""
        if nights < min_nights:
            breaks.append(RuleBreak("check_out", "min_nights", f"a stay here is at least {min_nights} nights{during}"))
        if nights > max_nights:
            breaks.append(RuleBreak("check_out", "max_nights", f"a stay here is at most {max_nights} nights{during}"))
    if guests > terms.max_guests:
        breaks.append(RuleBreak("guests", "max_guests", f"this listing sleeps at most {terms.max_guests}"))
    return breaks


Rate = Literal["standard", "weekend", "season", "season_weekend"]


def night_rate(terms: ListingTerms, night: date) -> tuple[int, Rate, str | None]:
    """A night's price, its rate and its season: a season's rates win over the listing's; on a Friday or Saturday
    night the weekend rate wins over the nightly one."""
    weekend = night.weekday() in WEEKEND_NIGHTS
    season = terms.rules.season_of(night)
    if season is not None:
        if weekend and season.weekend_price_minor is not None:
            return season.weekend_price_minor, "season_weekend", season.name
        return season.nightly_price_minor, "season", season.name
    if weekend and terms.rules.weekend_price_minor is not None:
        return terms.rules.weekend_price_minor, "weekend", None
    return terms.nightly_price_minor, "standard", None


@dataclass(frozen=True)
class StayAmounts:
    """The sums of a stay's price before the platform's share."""

    nights_total_minor: int
    discount: Literal["weekly", "monthly"] | None
    discount_percent: int
    discount_minor: int
    total_minor: int


def stay_amounts(terms: ListingTerms, night_prices: list[int]) -> StayAmounts:
    """The long-stay discount off the nights' sum (rounded down to the minor unit), then the cleaning fee."""
    nights_total = sum(night_prices)
    rules = terms.rules
    discount: Literal["weekly", "monthly"] | None = None
    percent = 0
    if len(night_prices) >= MONTH_NIGHTS and rules.monthly_discount_percent:
        discount, percent = "monthly", rules.monthly_discount_percent
    elif len(night_prices) >= WEEK_NIGHTS and rules.weekly_discount_percent:
        discount, percent = "weekly", rules.weekly_discount_percent
    discount_minor = nights_total * percent // 100
    return StayAmounts(
        nights_total, discount, percent, discount_minor, nights_total - discount_minor + terms.cleaning_fee_minor
    )


def stay_total_minor(terms: ListingTerms, check_in: date, check_out: date) -> int:
    """What the guest pays for the stay, as price_stay reckons it; for search, which prices many listings at once."""
    nights = nights_of_stay(check_in, check_out)
    return stay_amounts(terms, [night_rate(terms, night)[0] for night in nights]).total_minor


def price_stay(terms: ListingTerms, check_in: date, check_out: date, commission: CommissionRule) -> PriceBreakdown:
    """Each night at its rate, the long-stay discount off their sum, the cleaning fee, and the platform's share."""
    night_prices = [
        NightPrice(night=night, price_minor=price, rate=rate, season=season)
        for night in nights_of_stay(check_in, check_out)
        for price, rate, season in [night_rate(terms, night)]
    ]
    amounts = stay_amounts(terms, [night.price_minor for night in night_prices])
    fee = platform_fee_minor(commission, amounts.total_minor, terms.currency)
    return PriceBreakdown(
        nights=len(night_prices),
        nightly_price_minor=terms.nightly_price_minor,
        nights_total_minor=amounts.nights_total_minor,
        cleaning_fee_minor=terms.cleaning_fee_minor,
        total_minor=amounts.total_minor,
        currency=terms.currency,
        platform_fee_minor=fee,
        host_earnings_minor=amounts.total_minor - fee,
        night_prices=night_prices,
        discount=amounts.discount,
        discount_percent=amounts.discount_percent,
        discount_minor=amounts.discount_minor,
    )


def quote_stay(
    terms: ListingTerms,
    check_in: date,
    check_out: date,
    guests: int,
    bookings: BookingSettings,
    commission: CommissionRule,
    today: date | None = None,
    location: str = "body",
) -> PriceBreakdown:
    """The price of a stay the rules allow; a 422 stay-not-allowed naming every rule broken otherwise."""
    breaks = stay_rule_breaks(terms, check_in, check_out, guests, today or today_utc(), bookings)
    if breaks:
        raise StayNotAllowed(
            "; ".join(broken.message for broken in breaks),
            errors=[
                {"field": f"{location}.{broken.field}", "message": broken.message, "code": broken.rule}
                for broken in breaks
            ],
            rules=[broken.rule for broken in breaks],
        )
    return price_stay(terms, check_in, check_out, commission)
