"""Product analytics: the event model, the PostHog sink, the disabled sink, and the registry."""

from typing import Literal

import httpx

from providers.analytics.base import AnalyticsEvent, AnalyticsSink, OpaqueId, PropertyValue
from providers.analytics.disabled import DisabledAnalytics
from providers.analytics.posthog import PostHogAnalytics, PostHogSettings

AnalyticsVendor = Literal["posthog", "none"]


def create_analytics_sink(name: AnalyticsVendor, posthog: PostHogSettings, *, http: httpx.AsyncClient) -> AnalyticsSink:
    """The analytics sink configured as `name`; PostHog's refuses to be built without its project key."""
    return PostHogAnalytics(posthog, http) if name == "posthog" else DisabledAnalytics()


__all__ = [
    "AnalyticsEvent",
    "AnalyticsSink",
    "AnalyticsVendor",
    "DisabledAnalytics",
    "OpaqueId",
    "PostHogAnalytics",
    "PostHogSettings",
    "PropertyValue",
    "create_analytics_sink",
]
