"""An event's ticket holders: reminded before it starts (the reminder follows the event) and reachable by broadcast."""

from datetime import datetime, timedelta

from aiohttp.test_utils import TestClient
from saq import Status

from gateway.notifications.audiences import audience_for
from gateway.notifications.reminders import event_reminder_key
from gateway.state import SERVICES
from tests.tickets.builders import event_on_sale, paid_tickets, ticket_doc


async def test_publishing_schedules_the_reminder_and_cancelling_aborts_it(client: TestClient) -> None:
    sale = await event_on_sale(client, starts_in=timedelta(days=3))
    queue = client.app[SERVICES].queue
    reminder = await queue.job(event_reminder_key(sale.event_id))
    assert reminder is not None and reminder.status == Status.QUEUED
    event = await (await client.get(f"/v1/events/{sale.event_id}", headers=sale.host_headers)).json()
    lead = timedelta(hours=client.app[SERVICES].settings.notifications.event_reminder_lead_h)

    assert reminder.scheduled == int((datetime.fromisoformat(event["starts_at"]) - lead).timestamp())

    cancelled = await client.post(f"/v1/events/{sale.event_id}/cancel", headers=sale.host_headers)
    assert cancelled.status == 200
    await reminder.refresh()
    assert reminder.status in (Status.ABORTING, Status.ABORTED)


async def test_the_event_audience_is_each_holder_of_a_valid_ticket_once(client: TestClient) -> None:
    sale = await event_on_sale(client)
    tickets = await paid_tickets(client, sale, 3) + await paid_tickets(client, sale, 2)
    holders = sorted({(await ticket_doc(ticket["id"])).holder_id for ticket in tickets})
    assert len(holders) == 2

    audience = audience_for("event", sale.event_id)

    assert await audience.count() == len(holders)
    assert await audience.user_ids_after(None, 10) == holders
    assert await audience.user_ids_after(holders[0], 10) == holders[1:]
