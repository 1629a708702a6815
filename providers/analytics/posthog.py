"""PostHog through its public batch capture endpoint, `POST {host}/batch/`, with the project API key, and its private
persons API, `POST {app_host}/api/projects/{project_id}/persons/bulk_delete/`, with a personal API key."""

from collections.abc import Sequence
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr

from providers.analytics.base import AnalyticsEvent, AnalyticsSink
from providers.errors import ProviderMisconfigured
from providers.settings import VendorSettings
from providers.vendor_http import call_vendor

VENDOR = "posthog"
# The most distinct ids one bulk deletion takes.
BULK_DELETE_MAX = 1000
LIBRARY = "lango-gateway"


class PostHogSettings(VendorSettings):
    """The `analytics.posthog` settings; the project key (`phc_…`) is write-only but still kept from logs."""

    section: ClassVar[str] = "analytics.posthog"

    api_key: SecretStr | None = None
    host: str = "https://eu.i.posthog.com"
    max_batch_size: int = Field(100, ge=1, le=1000)
    # The private API deletes a person and their events on an erasure: a personal API key with person:write,
    # the project's id, and the app host (https://eu.posthog.com, not the capture host).
    personal_api_key: SecretStr | None = None
    project_id: str | None = Field(None, pattern=r"^[0-9]{1,20}$")
    app_host: str = "https://eu.posthog.com"


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

    async def forget_people(self, distinct_ids: Sequence[str]) -> None:
        settings = self._settings
        settings.require("personal_api_key", vendor=VENDOR)
        settings.require("project_id", vendor=VENDOR)
        url = f"{settings.app_host.rstrip('/')}/api/projects/{settings.project_id}/persons/bulk_delete/"
        headers = {"Authorization": f"Bearer {settings.personal_api_key.get_secret_value()}"}
        for start in range(0, len(distinct_ids), BULK_DELETE_MAX):
            body = {"distinct_ids": list(distinct_ids[start : start + BULK_DELETE_MAX]), "delete_events": True}
            await call_vendor(self._http, VENDOR, "POST", url, json=body, headers=headers)
