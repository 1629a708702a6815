"""Product analytics: the event model, the PostHog sink, the disabled sink, and the registry."""

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel

from providers.analytics.base import AnalyticsEvent, AnalyticsSink, OpaqueId, PropertyValue
from providers.analytics.disabled import DisabledAnalytics, DisabledAnalyticsConfig
from providers.analytics.posthog import PostHogAnalytics, PostHogConfig
from providers.registry import AdapterResources, AdapterSpec, build_adapter

ANALYTICS_PROVIDERS: Mapping[str, AdapterSpec[AnalyticsSink]] = {
    "posthog": AdapterSpec(
        PostHogConfig, lambda config, res: PostHogAnalytics(config, res.require_http("analytics.posthog"))
    ),
    "none": AdapterSpec(DisabledAnalyticsConfig, lambda _config, _res: DisabledAnalytics()),
}


def create_analytics_sink(
    name: str, options: Mapping[str, Any] | BaseModel | None = None, *, http: httpx.AsyncClient | None = None
) -> AnalyticsSink:
    """The analytics sink configured as `name` (posthog, none) with its settings."""
    return build_adapter("analytics", ANALYTICS_PROVIDERS, name, options or {}, AdapterResources(http=http))


__all__ = [
    "ANALYTICS_PROVIDERS",
    "AnalyticsEvent",
    "AnalyticsSink",
    "DisabledAnalytics",
    "DisabledAnalyticsConfig",
    "OpaqueId",
    "PostHogAnalytics",
    "PostHogConfig",
    "PropertyValue",
    "create_analytics_sink",
]
