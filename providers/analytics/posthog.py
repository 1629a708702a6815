"""PostHog through its public batch capture endpoint, `POST {host}/batch/`, with the project API key."""

from collections.abc import Sequence
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from providers.analytics.base import AnalyticsEvent, AnalyticsSink
from providers.errors import ProviderMisconfigured
from providers.vendor_http import call_vendor

VENDOR = "posthog"
LIBRARY = "lango-gateway"


class PostHogConfig(BaseModel):
    """The `analytics.posthog` settings; the project key (`phc_…`) is write-only but still kept from logs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr
    host: str = "https://us.i.posthog.com"
    max_batch_size: int = Field(100, ge=1, le=1000)


def _wire_event(event: AnalyticsEvent) -> dict[str, Any]:
    return {
        "event": event.event,
        "distinct_id": event.distinct_id,
        "properties": {**event.properties, "$lib": LIBRARY},
        "timestamp": event.timestamp.isoformat(),
        "uuid": str(event.uuid),
    }


class PostHogAnalytics(AnalyticsSink):
    """Sends events in batches of at most `max_batch_size` over the shared httpx client."""

    name = VENDOR

    def __init__(self, config: PostHogConfig, http: httpx.AsyncClient) -> None:
        if not config.api_key.get_secret_value():
            raise ProviderMisconfigured("analytics.posthog.api_key is empty", vendor=VENDOR)
        self._config = config
        self._http = http
        self._batch_url = f"{config.host.rstrip('/')}/batch/"

    @property
    def configured(self) -> bool:
        return True

    async def capture_batch(self, events: Sequence[AnalyticsEvent]) -> None:
        size = self._config.max_batch_size
        for start in range(0, len(events), size):
            body = {
                "api_key": self._config.api_key.get_secret_value(),
                "batch": [_wire_event(event) for event in events[start : start + size]],
            }
            await call_vendor(self._http, VENDOR, "POST", self._batch_url, json=body)
