"""Stay rules as an agent sends them: the stored shapes, with dates in the API's range and a season's name fit to show."""

from typing import Annotated

from pydantic import Field

from documents.stay_rules import MAX_SEASONS, Season, StayRules
from gateway.input_types import ApiDate, DisplayText


class SeasonInput(Season):
    name: Annotated[DisplayText, Field(min_length=1, max_length=60)]
    start: ApiDate
    end: ApiDate


class StayRulesInput(StayRules):
    seasons: Annotated[list[SeasonInput], Field(max_length=MAX_SEASONS)] = []  # type: ignore[assignment]
