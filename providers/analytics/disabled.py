"""The analytics sink of a deployment without a vendor: events are counted and dropped."""

from collections.abc import Sequence

from providers.analytics.base import AnalyticsEvent, AnalyticsSink


class DisabledAnalytics(AnalyticsSink):
    """Accepts every batch so callers need no special case; `dropped` shows how much went nowhere."""

    name = "none"

    def __init__(self) -> None:
        self.dropped = 0

    @property
    def configured(self) -> bool:
        return False

    async def capture_batch(self, events: Sequence[AnalyticsEvent]) -> None:
        self.dropped += len(events)

    async def forget_people(self, distinct_ids: Sequence[str]) -> None:
        """Nothing was ever sent, so nothing is held."""
