"""Text messages in the GSM-7 alphabet, so a message costs 160 characters a segment rather than 70."""

import math
import unicodedata

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Characters of the extension table: each takes two of a segment's septets.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
SINGLE_SEGMENT = 160
CONCATENATED_SEGMENT = 153

# Typography that phones and editors produce, and what it becomes in GSM-7.
_REPLACEMENTS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u2022": "-",
}


def septets(text: str) -> int | None:
    """How many GSM-7 septets `text` takes, or None when a character is outside the alphabet."""
    count = 0
    for character in text:
        if character in GSM7_BASIC:
            count += 1
        elif character in GSM7_EXTENDED:
            count += 2
        else:
            return None
    return count


def segments(text: str) -> int:
    """How many SMS segments `text` is sent as (UCS-2 when it leaves the GSM-7 alphabet)."""
    length = septets(text)
    single, concatenated = (SINGLE_SEGMENT, CONCATENATED_SEGMENT) if length is not None else (70, 67)
    length = length if length is not None else len(text.encode("utf-16-le")) // 2
    return 1 if length <= single else math.ceil(length / concatenated)


def to_gsm7(text: str) -> str:
    """Keep `text` in the GSM-7 alphabet: typography replaced, accents dropped, anything else (emoji) left out."""
    kept: list[str] = []
    for character in text:
        if character in GSM7_BASIC or character in GSM7_EXTENDED:
            kept.append(character)
        elif character in _REPLACEMENTS:
            kept.append(_REPLACEMENTS[character])
        else:
            base = unicodedata.normalize("NFKD", character)[:1]
            if base and base in GSM7_BASIC:
                kept.append(base)
    return "".join(kept)
