"""What vendors hold about the person on the product's behalf: the analytics vendor's person and events."""

from gateway.privacy.registry import DataSubject, PersonalData
from gateway.services import Services


async def _forget_at_analytics_vendor(services: Services, subject: DataSubject) -> None:
    # Only the opaque id was ever sent (providers.analytics.base), so it is the only one to name.
    await services.analytics.forget_people([subject.user_id])


# After Redis: events still queued there are gone first, so no flush brings the person back at the vendor.
ANALYTICS_VENDOR = PersonalData(
    "analytics_vendor", "product events sent to the analytics vendor, and its person", erase=_forget_at_analytics_vendor
)
