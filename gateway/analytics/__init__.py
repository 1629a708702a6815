"""Product analytics: `track` for flows, events from the bus, a batched flush to the vendor, per-user opt-out."""

from gateway.analytics.flush import flush_events
from gateway.analytics.tracking import ProductEvent, track

__all__ = ["ProductEvent", "flush_events", "track"]
