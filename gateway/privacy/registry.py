"""The registry of personal data: each kind the product keeps names one exporter and one eraser.

A feature that stores something about a person adds a `PersonalData` for it to gateway.composition.personal_data();
the export job then includes it and the erasure job removes or pseudonymises it, with no other change.
"""

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.services import Services

KENYA = "+254"


@dataclass(frozen=True)
class DataSubject:
    """The person whose data is exported or erased: every form in which their data may name them."""

    user_id: str
    email: str | None
    phone: str | None
    # What records that must be kept (payments, the ledger, tax) say instead of the id once the person is erased.
    pseudonym: str
    # Other names the person's data carries (the holder names given on their ticket orders, their profile's display
    # name, the emails and phones they changed away from), gathered when the erasure starts.
    names: frozenset[str] = field(default_factory=frozenset)

    @property
    def identifiers(self) -> list[str]:
        """What only this person's data contains: the id, the email, the phone in each form it is written in."""
        found = [self.user_id]
        if self.email:
            found.append(self.email)
        if self.phone:
            found += [self.phone, self.phone.lstrip("+")]
            if self.phone.startswith(KENYA):
                # As Kenyans write it, and as a vendor's free text may: 07… or 01….
                found.append("0" + self.phone.removeprefix(KENYA))
        return found

    @property
    def needles(self) -> list[str]:
        """What scrubs a record already known to be the person's: their identifiers and the names it may carry
        (names alone would also hit other people's records)."""
        return [*self.identifiers, *(name for name in self.names if name)]


# What an exporter answers: JSON-able records, and the files to put beside them in the archive (name -> bytes).
@dataclass
class Exported:
    records: Any
    files: dict[str, bytes] = field(default_factory=dict)


Exporter = Callable[["Services", DataSubject], Awaitable[Exported]]
Eraser = Callable[["Services", DataSubject], Awaitable[None]]


@dataclass(frozen=True)
class PersonalData:
    """One kind of personal data: its name in the archive, what it is for, and how it is exported and erased.

    An exporter of None means the kind holds nothing worth giving back (tokens, counters); every kind has an eraser,
    which must be safe to run again (an erasure interrupted is run again from the start)."""

    name: str
    purpose: str
    erase: Eraser
    export: Exporter | None = None


class PersonalDataRegistry:
    """The kinds in the order they are erased: the account itself last, so a failed erasure can run again."""

    def __init__(self, kinds: Iterable[PersonalData]) -> None:
        self.kinds = tuple(kinds)
        names = [kind.name for kind in self.kinds]
        if duplicated := {name for name in names if names.count(name) > 1}:
            raise ValueError(f"personal data kinds registered twice: {', '.join(sorted(duplicated))}")
