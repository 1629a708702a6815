"""The shared outbox store: bounded, newest first, filterable by channel."""

from datetime import UTC, datetime

import pytest

from providers.delivery import mask_email, mask_phone
from providers.outbox import OutboxConfig, OutboxStore, list_outbox, outbox_key

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_entries_come_back_newest_first_with_utc_timestamps(redis_client, namespace):
    store = OutboxStore(redis_client, OutboxConfig(namespace=namespace))
    await store.record("email", {"to": "a@example.com", "kind": "otp"})
    await store.record("sms", {"to": "+254712345678", "kind": "otp"})

    entries = await list_outbox(redis_client, namespace)

    assert [entry["channel"] for entry in entries] == ["sms", "email"]
    stamped = datetime.fromisoformat(entries[0]["ts"])
    assert stamped.utcoffset() == UTC.utcoffset(None)
    assert entries[0]["id"] != entries[1]["id"]


async def test_the_list_is_capped_at_its_capacity(redis_client, namespace):
    store = OutboxStore(redis_client, OutboxConfig(namespace=namespace, capacity=3))
    for number in range(5):
        await store.record("sms", {"to": "+254712345678", "text": f"message {number}", "kind": "otp"})

    assert await redis_client.llen(outbox_key(namespace)) == 3
    entries = await list_outbox(redis_client, namespace, limit=10)
    assert [entry["text"] for entry in entries] == ["message 4", "message 3", "message 2"]


async def test_listing_filters_by_channel_and_honours_the_limit(redis_client, namespace):
    store = OutboxStore(redis_client, OutboxConfig(namespace=namespace))
    for number in range(4):
        await store.record("email", {"to": "a@example.com", "subject": f"s{number}", "kind": "receipt"})
        await store.record("push", {"title": f"t{number}", "kind": "booking"})

    emails = await list_outbox(redis_client, namespace, channel="email", limit=2)
    assert [entry["subject"] for entry in emails] == ["s3", "s2"]
    assert await list_outbox(redis_client, namespace, channel="sms") == []
    assert len(await list_outbox(redis_client, namespace, limit=5)) == 5


async def test_masks_keep_recipients_apart_without_revealing_them():
    assert mask_phone("+254712345612") == "+2547******12"
    assert mask_email("jane.doe@example.com") == "j*******@example.com"
