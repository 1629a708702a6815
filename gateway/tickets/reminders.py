"""Event reminders and event broadcasts reach the holders of valid tickets; both follow the event's life."""

from typing import Any

from bson import ObjectId

from documents.hosted_event import HostedEvent
from documents.ticket import Ticket, TicketStatus
from gateway.notifications import AUDIENCES, Audience, cancel_event_reminder, schedule_event_reminder
from gateway.problems import ValidationFailed
from gateway.services import Services
from gateway.tickets.issuing import venue_label


class TicketHolders:
    """The distinct holders of valid tickets to one event, in ascending id order."""

    def __init__(self, event_id: ObjectId) -> None:
        self._match: dict[str, Any] = {"event_id": event_id, "status": TicketStatus.VALID.value}

    async def count(self) -> int:
        return len(await self._holders(after=None, limit=None))

    async def user_ids_after(self, after: str | None, limit: int) -> list[str]:
        return await self._holders(after, limit)

    async def _holders(self, after: str | None, limit: int | None) -> list[str]:
        match = {**self._match, "holder_id": {"$gt": after}} if after else self._match
        pipeline: list[dict[str, Any]] = [{"$match": match}, {"$group": {"_id": "$holder_id"}}, {"$sort": {"_id": 1}}]
        if limit is not None:
            pipeline.append({"$limit": limit})
        rows = await (await Ticket.get_pymongo_collection().aggregate(pipeline)).to_list()
        return [row["_id"] for row in rows]


def ticket_holders(event_id: str | None) -> Audience:
    if not event_id or not ObjectId.is_valid(event_id):
        raise ValidationFailed(errors=[{"field": "body.audience.value", "message": "an event id", "code": "event_id"}])
    return TicketHolders(ObjectId(event_id))


AUDIENCES["event"] = ticket_holders


async def remind_holders_before(services: Services, event: HostedEvent) -> None:
    """Schedule (or move) the reminder of a published event; nothing when it starts too soon to remind."""
    await schedule_event_reminder(
        services,
        str(event.id),
        event.starts_at,
        {
            "event_title": event.title,
            "venue": await venue_label(event),
            "ticket_url": f"{services.settings.notifications.public_app_url}/events/{event.id}",
        },
    )


async def forget_reminder(services: Services, event: HostedEvent) -> None:
    await cancel_event_reminder(services, str(event.id))
