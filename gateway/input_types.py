"""Shared types of request fields: times and dates in a sane range, text fit to show to other people."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

# Far enough either way for any booking, event or key; near enough that converting to UTC, adding a day or a
# time zone's offset can never leave what Python's datetime (years 1-9999) and BSON hold.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2200

# Controls (C0, DEL, C1), line and paragraph separators, surrogates, and the bidirectional embeddings, overrides and
# isolates that make a name read differently from what it holds ("gnp.exe" shown as "exe.png").
_NOT_IN_DISPLAY_TEXT = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
# Prose may break lines and hold tabs; nothing else above changes.
_NOT_IN_PROSE = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
UNDISPLAYABLE_TEXT_ERROR = "undisplayable_text"


def _within_api_years(value: date) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise PydanticCustomError(
            "out_of_range", "must fall between the years {earliest} and {latest}",
            {"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR},
        )  # fmt: skip
    return value


# A time with its offset, between the years EARLIEST_YEAR and LATEST_YEAR.
ApiDatetime = Annotated[AwareDatetime, AfterValidator(_within_api_years)]
# A calendar date between the years EARLIEST_YEAR and LATEST_YEAR.
ApiDate = Annotated[date, AfterValidator(_within_api_years)]


@dataclass(frozen=True)
class _Refusing:
    """A string annotation refusing every character of `forbidden` (a regex class body); API clients read the same
    rule as the field's JSON Schema pattern, and the error names the character found."""

    forbidden: str

    def check(self, value: str, path: tuple[str, ...] = ()) -> str:
        """`value` itself, or an error naming the first refused character (and where it is, inside a nested model)."""
        if (character := re.search(f"[{self.forbidden}]", value)) is not None:
            raise PydanticCustomError(
                UNDISPLAYABLE_TEXT_ERROR, "may not hold control or bidirectional-override characters ({code})",
                {"code": f"U+{ord(character.group()):04X}", "key_path": path},
            )  # fmt: skip
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**handler(schema), "pattern": f"^[^{self.forbidden}]*$"}


_DISPLAYABLE = _Refusing(_NOT_IN_DISPLAY_TEXT)
# One line shown to other people: a title or a name.
DisplayText = Annotated[str, _DISPLAYABLE]
# Text of several lines shown to other people: a description, a message.
ProseText = Annotated[str, _Refusing(_NOT_IN_PROSE)]


def _every_text_displayable(value: BaseModel) -> BaseModel:
    """Every string field of a nested model (a venue, an address) is a name shown to others: refused like DisplayText,
    naming the field inside."""
    for path, text in _texts_of(value):
        _DISPLAYABLE.check(text, path)
    return value


def _texts_of(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts_of(getattr(value, name), (*path, name))


# A nested model whose text fields are all names shown to other people (a venue, an address).
DisplayedPlace = AfterValidator(_every_text_displayable)
