"""The shared outbox store: bounded, newest first, filterable by channel."""

from datetime import UTC, datetime

from providers.delivery import mask_email, mask_phone
from providers.outbox import OutboxStore, list_outbox, outbox_key


async def test_entries_come_back_newest_first_with_utc_timestamps(provider_redis, redis_namespace):
    store = OutboxStore(provider_redis, redis_namespace)
    await store.record("email", {"to": "a@example.com", "kind": "otp"})
    await store.record("sms", {"to": "+254712345678", "kind": "otp"})

    entries = await list_outbox(provider_redis, redis_namespace)

    assert [entry["channel"] for entry in entries] == ["sms", "email"]
    stamped = datetime.fromisoformat(entries[0]["ts"])
    assert stamped.utcoffset() == UTC.utcoffset(None)
    assert entries[0]["id"] != entries[1]["id"]


async def test_the_list_is_capped_at_its_capacity(provider_redis, redis_namespace):
    store = OutboxStore(provider_redis, redis_namespace, capacity=3)
    for number in range(5):
        await store.record("sms", {"to": "+254712345678", "text": f"message {number}", "kind": "otp"})

    assert await provider_redis.llen(outbox_key(redis_namespace)) == 3
    entries = await list_outbox(provider_redis, redis_namespace, limit=10)
    assert [entry["text"] for entry in entries] == ["message 4", "message 3", "message 2"]


async def test_listing_filters_by_channel_and_honours_the_limit(provider_redis, redis_namespace):
    store = OutboxStore(provider_redis, redis_namespace)
    for number in range(4):
        await store.record("email", {"to": "a@example.com", "subject": f"s{number}", "kind": "receipt"})
        await store.record("push", {"title": f"t{number}", "kind": "booking"})

    emails = await list_outbox(provider_redis, redis_namespace, channel="email", limit=2)
    assert [entry["subject"] for entry in emails] == ["s3", "s2"]
    assert await list_outbox(provider_redis, redis_namespace, channel="sms") == []
    assert len(await list_outbox(provider_redis, redis_namespace, limit=5)) == 5


async def test_masks_keep_recipients_apart_without_revealing_them():
    assert mask_phone("+254712345612") == "+2547******12"
    assert mask_email("jane.doe@example.com") == "j*******@example.com"
