"""PostHog through its public batch capture endpoint, `POST {host}/batch/`, with the project API key."""

from collections.abc import Sequence
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr

from providers.analytics.base import AnalyticsEvent, AnalyticsSink
from providers.errors import ProviderMisconfigured
from providers.settings import VendorSettings
from providers.vendor_http import call_vendor

VENDOR = "posthog"
LIBRARY = "lango-gateway"


class PostHogSettings(VendorSettings):
    """The `analytics.posthog` settings; the project key (`phc_…`) is write-only but still kept from logs."""

    section: ClassVar[str] = "analytics.posthog"

    api_key: SecretStr | None = None
    host: str = "https://eu.i.posthog.com"
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

    def __init__(self, settings: PostHogSettings, http: httpx.AsyncClient) -> None:
        settings.require("api_key", vendor=VENDOR)
        if not settings.api_key.get_secret_value():
            raise ProviderMisconfigured(f"{settings.section}.api_key is empty", vendor=VENDOR)
        self._settings = settings
        self._http = http
        self._batch_url = f"{settings.host.rstrip('/')}/batch/"

    @property
    def configured(self) -> bool:
        return True

    async def capture_batch(self, events: Sequence[AnalyticsEvent]) -> None:
        size = self._settings.max_batch_size
        for start in range(0, len(events), size):
            body = {
                "api_key": self._settings.api_key.get_secret_value(),
                "batch": [_wire_event(event) for event in events[start : start + size]],
            }
            await call_vendor(self._http, VENDOR, "POST", self._batch_url, json=body)
