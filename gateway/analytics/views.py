"""What the analytics routes answer: whether product events about the signed-in user are sent."""

from pydantic import BaseModel


class AnalyticsPreference(BaseModel):
    """`enabled` false: no product event about this user leaves the gateway, including ones already queued."""

    enabled: bool
