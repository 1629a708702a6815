"""The product-analytics contract: batches of events about opaque ids, never about people's personal data."""

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID, uuid4

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

PropertyValue = str | int | Annotated[float, Field(allow_inf_nan=False)] | bool | None
_PHONE_LIKE = re.compile(r"^\d{9,15}$")


def _not_phone_like(distinct_id: str) -> str:
    if _PHONE_LIKE.match(distinct_id):
        raise ValueError("distinct_id looks like a phone number; send the opaque user or device id")
    return distinct_id


# Letters, digits and `_ - : .` only: no `@`, `+` or spaces, so an email or a formatted phone cannot slip in.
OpaqueId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_:.-]{7,127}$"),
    AfterValidator(_not_phone_like),
]
EventName = Annotated[str, StringConstraints(pattern=r"^\$?[A-Za-z][A-Za-z0-9_.:-]{0,199}$")]
# No `$` names: PostHog reads `$set` and friends as person properties, the way personal data would get in.
PropertyName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.:-]{0,99}$")]
UtcTimestamp = Annotated[AwareDatetime, AfterValidator(lambda moment: moment.astimezone(UTC))]


class AnalyticsEvent(BaseModel):
    """Something that happened (`listing_viewed`, `booking_paid`) to an opaque id, with scalar properties."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event: EventName
    distinct_id: OpaqueId
    properties: dict[PropertyName, PropertyValue] = Field(default_factory=dict, max_length=100)
    timestamp: UtcTimestamp = Field(default_factory=lambda: datetime.now(UTC))
    uuid: UUID = Field(default_factory=uuid4, description="lets the vendor drop a batch delivered twice")


class AnalyticsSink(ABC):
    """Where product events go; capture is fire-and-forget for callers, so sinks raise only ProviderErrors."""

    name: str

    @property
    @abstractmethod
    def configured(self) -> bool:
        """False for the sink that drops events because no vendor is configured."""

    @abstractmethod
    async def capture_batch(self, events: Sequence[AnalyticsEvent]) -> None:
        """Deliver the events; a retried batch is deduplicated by the events' uuids."""

    @abstractmethod
    async def forget_people(self, distinct_ids: Sequence[str]) -> None:
        """Have the vendor delete these people and every event about them; people it never heard of are no error."""
