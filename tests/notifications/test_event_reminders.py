"""Event reminders: scheduled before the event for its ticket holders (resolved by the tickets flow), cancelled with it."""

from datetime import UTC, datetime, timedelta

import pytest
from saq import Status

from documents.notification import Notification, NotificationKind
from gateway.notifications import AUDIENCES, cancel_event_reminder, schedule_event_reminder
from gateway.notifications.audiences import UsersMatching
from gateway.notifications.reminders import event_reminder_key, send_event_reminder
from gateway.state import SERVICES
from tests.factories import create_user
from tests.notifications.conftest import Start, queued_job

EVENT = {"event_title": "Sauti za Busara", "venue": "Old Fort, Stone Town", "ticket_url": "https://lango.africa/e/busara"}


@pytest.fixture
def scanners_hold_tickets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stands in for the tickets flow's resolver (restored afterwards): here every scanner holds every ticket."""
    monkeypatch.setitem(AUDIENCES, "event", lambda event_id: UsersMatching({"roles": "scanner"}))


async def test_the_reminder_is_due_before_the_event_and_goes_away_when_the_event_is_cancelled(start: Start) -> None:
    client = await start()
    starts_at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)

    due = await schedule_event_reminder(client.app[SERVICES], "evt-1", starts_at, EVENT)

    assert due == starts_at - timedelta(hours=24)
    job = await queued_job(client.app, event_reminder_key("evt-1"))
    assert job.scheduled == int(due.timestamp())
    await cancel_event_reminder(client.app[SERVICES], "evt-1")
    await job.refresh()
    assert job.status in (Status.ABORTING, Status.ABORTED)
    assert await schedule_event_reminder(client.app[SERVICES], "evt-2", datetime.now(UTC) + timedelta(hours=2), EVENT) is None


async def test_the_reminder_reaches_each_ticket_holder_once(start: Start, scanners_hold_tickets: None) -> None:
    client = await start()
    holders = [str((await create_user(client.app, roles=("scanner",))).id) for _ in range(2)]
    await create_user(client.app)
    starts_at = "2027-02-14T15:00:00+00:00"

    assert await send_event_reminder({"services": client.app[SERVICES]}, event_id="evt-1", starts_at=starts_at, event=EVENT) == 2
    await send_event_reminder({"services": client.app[SERVICES]}, event_id="evt-1", starts_at=starts_at, event=EVENT)

    reminded = await Notification.find({"kind": NotificationKind.EVENT_REMINDER}).to_list()
    assert sorted(notification.user_id for notification in reminded) == sorted(holders)
    assert reminded[0].title == "Sauti za Busara is coming up"
    assert reminded[0].body == "Sun 14 February 2027 at 18:00, Old Fort, Stone Town."


async def test_without_a_ticket_resolver_the_reminder_reaches_nobody(start: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(AUDIENCES, "event", raising=False)
    client = await start()
    await create_user(client.app)

    assert await send_event_reminder({"services": client.app[SERVICES]}, event_id="evt-1", starts_at="2027-02-14T15:00:00+00:00", event=EVENT) == 0
