"""Phone numbers and email addresses in message text, found however they are spelled out, and hidden.

Until a booking is confirmed its guest and host could agree to pay off the platform; what they write each other
then has its contact points masked. People who want to get around a filter write `0 7 1 2 …`, `zero seven one
two`, `sifuri saba …`, `07l2` or `john at gmail dot com`: those are caught too. A false positive costs a re-read
once the booking is confirmed (the text is kept whole); a miss costs the platform the booking.
"""

import re
from dataclasses import dataclass

MASK = "[contact hidden until the booking is confirmed]"
# Kenyan numbers have 9 significant digits (7xx xxx xxx); a run of fewer is a price, a date or a door code.
MIN_PHONE_DIGITS = 9

_DIGIT_WORDS = {
    # English, with the letters people type for digits
    "zero": 1, "oh": 1, "o": 1, "one": 1, "two": 1, "three": 1, "four": 1, "five": 1, "six": 1, "seven": 1,
    "eight": 1, "nine": 1,
    # Swahili
    "sifuri": 1, "moja": 1, "mbili": 1, "tatu": 1, "nne": 1, "tano": 1, "sita": 1, "saba": 1, "nane": 1, "tisa": 1,
}  # fmt: skip
# "double seven", "triple oh": said aloud in Kenya, and written the same way to slip past a filter.
_REPEATS = {"double": 2, "triple": 3}
_WORD_UNIT = "|".join(sorted(_DIGIT_WORDS, key=len, reverse=True))
_REPEAT_UNIT = "|".join(_REPEATS)
# One digit, or a digit word standing alone, or "double"/"triple" before one of them.
_UNIT = rf"(?:(?:\b(?:{_REPEAT_UNIT})\b[\s-]*)?(?:\d|\b(?:{_WORD_UNIT})\b))"
# Between two digits: nothing, or a few characters people space digits with.
_GAP = r"[\s\-–—.,_/\\()+*|:'\"]{0,3}"
_DIGIT_RUN = re.compile(rf"[+(]?{_UNIT}(?:{_GAP}{_UNIT})+", re.IGNORECASE)
_REPEAT = re.compile(rf"\b({_REPEAT_UNIT})\b", re.IGNORECASE)
_WORD = re.compile(rf"\b(?:{_WORD_UNIT})\b", re.IGNORECASE)
# Letters typed for digits inside a number ("O7l2"): read as digits, one for one, so spans keep their places.
_LOOKALIKE = re.compile(r"(?<=\d)[oOlI]|[oOlI](?=\d)")
_LOOKALIKE_DIGITS = str.maketrans("oOlI", "0011")

# No dot inside a part: dots join parts (`_DOT`), so a run like "a.a.a." is read one way only, never tried in all
# the ways it splits (which took seconds for 20 of them).
_LOCAL = r"[A-Za-z0-9_%+-]+"
_LABEL = r"[A-Za-z0-9-]+"
_AT = r"(?:\s*@\s*|\s*[\(\[\{<]\s*at\s*[\)\]\}>]\s*|\s+at\s+)"
_DOT = r"(?:\s*\.\s*|\s*[\(\[\{<]\s*dot\s*[\)\]\}>]\s*|\s+dot\s+)"
_WELL_KNOWN = r"(?:gmail|googlemail|yahoo|ymail|hotmail|outlook|live|icloud|proton(?:mail)?|aol|zoho)"
# A run of name parts ("amina dot k", "j.doe"), found in one pass; each is then tried once with what may follow it, so no text is read
# more than twice whatever it holds.
_NAME_RUN = re.compile(rf"(?<![A-Za-z0-9_%+-]){_LOCAL}(?:{_DOT}{_LOCAL})*")
_AFTER_NAME = [
    # name@example.co.ke, name (at) example (dot) com, name at example dot com
    re.compile(rf"{_AT}{_LABEL}(?:{_DOT}{_LABEL})+", re.IGNORECASE),
    # name at gmail, name@yahoo: the provider alone says what it is
    re.compile(rf"{_AT}{_WELL_KNOWN}\b", re.IGNORECASE),
]
# Without "@" only the spelled-out forms are evidence; plain "at … dot …" prose needs a domain ending.
_SPELLED_AT = re.compile(r"\s+at\s+", re.IGNORECASE)
_DOMAIN_ENDING = re.compile(r"(?:com|net|org|co|ke|io|me|info|biz|uk|us|africa|tz|ug|rw)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Masked:
    text: str
    # Whether anything was hidden.
    hid_contacts: bool


def digits_in(run: str) -> int:
    """How many digits a run spells: figures, digit words, doubled and tripled ones."""
    count = sum(character.isdigit() for character in run) + len(_WORD.findall(run))
    for repeat in _REPEAT.findall(run):
        count += _REPEATS[repeat.lower()] - 1
    return count


def _email_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for name in _NAME_RUN.finditer(text):
        for pattern in _AFTER_NAME:
            tail = pattern.match(text, name.end())
            if tail is None:
                continue
            found = text[name.start() : tail.end()]
            spelled = "@" not in found and _SPELLED_AT.search(found) and not re.search(r"[\(\[\{<]", found)
            if spelled and not re.search(_WELL_KNOWN, found, re.IGNORECASE) and not _DOMAIN_ENDING.search(found):
                continue
            spans.append((name.start(), tail.end()))
            break
    return spans


def _phone_spans(text: str) -> list[tuple[int, int]]:
    # Twice, so a look-alike between two others ("0ll2") is reached once its neighbour became a digit.
    for _ in range(2):
        text = _LOOKALIKE.sub(lambda found: found.group(0).translate(_LOOKALIKE_DIGITS), text)
    return [match.span() for match in _DIGIT_RUN.finditer(text) if digits_in(match.group(0)) >= MIN_PHONE_DIGITS]


def mask_contacts(text: str) -> Masked:
    """`text` with every phone number and email address in it replaced by MASK."""
    spans = sorted(_email_spans(text) + _phone_spans(text))
    if not spans:
        return Masked(text, hid_contacts=False)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces, position = [], 0
    for start, end in merged:
        pieces += [text[position:start], MASK]
        position = end
    pieces.append(text[position:])
    return Masked("".join(pieces), hid_contacts=True)
