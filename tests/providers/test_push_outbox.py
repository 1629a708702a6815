"""The push outbox adapter, the push message contract and the push registry."""

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from providers.outbox import OutboxStore, list_outbox
from providers.push import OutboxPushSender, PushMessage, PushSettings, create_push_sender

ALERT = PushMessage(
    tokens=("device-a", "device-b"),
    title="Ticket scanned",
    body="Welcome to Sauti Sol Live",
    data={"ticket_id": "t-7"},
    collapse_key="ticket-t-7",
    kind="ticket_scanned",
)


async def test_outbox_keeps_the_notification_and_reports_every_device_delivered(provider_redis, redis_namespace):
    sender = create_push_sender(PushSettings(), outbox=OutboxStore(provider_redis, redis_namespace))

    with capture_logs() as logs:
        result = await sender.send(ALERT)

    assert isinstance(sender, OutboxPushSender)
    assert result.delivered_tokens == ["device-a", "device-b"]
    assert result.tokens_to_remove == []
    [entry] = await list_outbox(provider_redis, redis_namespace, channel="push")
    assert entry["to"] == ["device-a", "device-b"]
    assert (entry["title"], entry["body"], entry["data"]) == (
        "Ticket scanned",
        "Welcome to Sauti Sol Live",
        {"ticket_id": "t-7"},
    )
    assert (entry["collapse_key"], entry["priority"], entry["kind"]) == ("ticket-t-7", "normal", "ticket_scanned")
    assert result.outcomes[0].message_id == entry["id"]
    assert "device-a" not in repr(logs)


@pytest.mark.parametrize(
    "fields",
    [
        {"tokens": ()},
        {"data": {"google.sender": "x"}},
        {"data": {"from": "x"}},
        {"data": {"big": "x" * 5000}},
        {"priority": "urgent"},
    ],
)
async def test_notifications_fcm_would_refuse_are_refused_here(fields):
    with pytest.raises(ValidationError):
        PushMessage(**{**ALERT.model_dump(), **fields})


async def test_registry_refuses_unknown_names():
    with pytest.raises(ValidationError, match=r"provider\n  Input should be 'outbox' or 'fcm'"):
        PushSettings(provider="pigeon")
