"""A listing's prices beyond its standard nightly rate (seasons, weekends, long-stay discounts) and its stay rules."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Weekend prices apply to the nights that start on Friday and Saturday.
WEEKEND_NIGHTS = frozenset({4, 5})
MAX_SEASONS = 50
PriceMinor = Annotated[int, Field(gt=0, le=10**11)]
Nights = Annotated[int, Field(ge=1, le=365)]
DiscountPercent = Annotated[int, Field(ge=0, le=90)]


class Season(BaseModel):
    """Nights from `start` up to (not including) `end` priced apart, with their own stay limits when given."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=60)]
    start: date
    end: date
    nightly_price_minor: PriceMinor
    weekend_price_minor: PriceMinor | None = None
    # A stay is held to the limits of the season its first night falls in.
    min_nights: Nights | None = None
    max_nights: Nights | None = None

    @model_validator(mode="after")
    def _forward(self) -> "Season":
        if self.end <= self.start:
            raise ValueError(f"season {self.name!r}: end must be after start")
        if self.min_nights and self.max_nights and self.min_nights > self.max_nights:
            raise ValueError(f"season {self.name!r}: min_nights must not exceed max_nights")
        return self

    def covers(self, night: date) -> bool:
        return self.start <= night < self.end


class StayRules(BaseModel):
    """Everything but the standard nightly price that decides whether a stay may be booked and what it costs."""

    model_config = ConfigDict(extra="forbid")

    weekend_price_minor: PriceMinor | None = None
    # Off the nights' total, rounded down to the minor unit; a stay of 28 nights or more takes the monthly one.
    weekly_discount_percent: DiscountPercent = 0
    monthly_discount_percent: DiscountPercent = 0
    min_nights: Nights = 1
    max_nights: Nights | None = None
    # The weekdays a stay may start on; empty allows every day.
    check_in_days: Annotated[list[Weekday], Field(max_length=7)] = []
    # Days between today and the first night: 0 takes a booking for tonight.
    advance_notice_days: Annotated[int, Field(ge=0, le=365)] = 0
    # How far ahead the first night may be; the platform's own limit (bookings.max_advance_days) caps it.
    booking_window_days: Annotated[int, Field(ge=1, le=1_095)] | None = None
    seasons: Annotated[list[Season], Field(max_length=MAX_SEASONS)] = []

    @model_validator(mode="after")
    def _consistent(self) -> "StayRules":
        if self.max_nights is not None and self.min_nights > self.max_nights:
            raise ValueError("min_nights must not exceed max_nights")
        if len(set(self.check_in_days)) != len(self.check_in_days):
            raise ValueError("check_in_days must not repeat a day")
        ordered = sorted(self.seasons, key=lambda season: season.start)
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            if later.start < earlier.end:
                raise ValueError(f"seasons {earlier.name!r} and {later.name!r} overlap")
        self.seasons = ordered
        return self

    def season_of(self, night: date) -> Season | None:
        return next((season for season in self.seasons if season.covers(night)), None)
