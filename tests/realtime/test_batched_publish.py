"""Publishes made at once share a round trip to Redis, and each still gets its own id, result and error."""

import asyncio
import json

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from gateway.messaging import BusUnavailable, InvalidTarget, MessageBus, Outgoing, Published, user_room
from gateway.messaging.batching import BatchedScript
from gateway.messaging.log import NODE_MESSAGE_SEPARATOR
from gateway.realtime.presence import NodePresence
from tests.conftest import make_settings

# Per call: one key, one argument; 'fail' answers that call an error, anything else counts it in the key.
_COUNT_OR_REFUSE = """
local results = {}
for i = 1, #KEYS do
  if ARGV[i] == 'fail' then
    results[i] = redis.error_reply('refused ' .. KEYS[i])
  else
    results[i] = redis.call('INCR', KEYS[i])
  end
end
return results
"""
# The same, answering two values per call laid end to end: the count and the count doubled, or the error and 0.
_COUNT_TWICE_OR_REFUSE = """
local results = {}
for i = 1, #KEYS do
  if ARGV[i] == 'fail' then
    results[2 * i - 1], results[2 * i] = redis.error_reply('refused ' .. KEYS[i]), 0
  else
    local count = redis.call('INCR', KEYS[i])
    results[2 * i - 1], results[2 * i] = count, 2 * count
  end
end
return results
"""


async def test_a_burst_of_publishes_to_one_room_gets_every_id_once_in_history_order(bus: MessageBus) -> None:
    room = user_room("wanjiru")
    published = await asyncio.gather(*(bus.publish(room, "booking.updated", {"n": n}) for n in range(300)))

    assert sorted(p.event_id for p in published) == list(range(1, 301))
    history = await bus.log.read_after(room, 0)
    assert [event.id for event in history.events] == list(range(1, 301))
    data_by_id = {p.event_id: p.data for p in published}
    for event in history.events:
        assert json.loads(event.envelope)["data"] == data_by_id[event.id], "each id stored with its own publish's data"


async def test_publish_many_answers_each_event_in_order_with_its_rooms_next_id(bus: MessageBus) -> None:
    rooms = [user_room("neema"), user_room("jabari")]
    heard: list[Published] = []

    async def record(published: Published) -> None:
        heard.append(published)

    bus.subscribe(record)
    events = [Outgoing(rooms[n % 2], "booking.updated", {"n": n}) for n in range(10)]

    published = await bus.publish_many(events)

    assert [(p.target, p.event_id, p.data) for p in published] == [
        (rooms[n % 2], n // 2 + 1, {"n": n}) for n in range(10)
    ]
    assert heard == published, "every subscriber hears every event, in order"
    for room in rooms:
        history = await bus.log.read_after(room, 0)
        assert [json.loads(event.envelope)["data"]["n"] for event in history.events] == [
            n for n in range(10) if events[n].target == room
        ]


async def test_publish_many_checks_every_event_before_sending_any(bus: MessageBus) -> None:
    room = user_room("imani")

    with pytest.raises(InvalidTarget):
        await bus.publish_many([Outgoing(room, "booking.updated", {}), Outgoing("nowhere:1", "booking.updated", {})])

    assert (await bus.log.read_after(room, None)).latest_id == 0, "nothing of the refused batch was published"


async def test_publish_many_hands_on_the_events_redis_took_and_names_the_ones_it_did_not(
    bus: MessageBus, redis: Redis
) -> None:
    broken, healthy = user_room("wekesa"), user_room("nafula")
    await redis.set(bus.keys.history(broken), "not a stream")
    heard: list[Published] = []

    async def record(published: Published) -> None:
        heard.append(published)

    bus.subscribe(record)
    events = [Outgoing(healthy, "booking.updated", {"n": 1}), Outgoing(broken, "payment.updated", {"n": 2})]

    with pytest.raises(BusUnavailable) as refused:
        await bus.publish_many(events)

    assert f"payment.updated to {broken}" in str(refused.value) and healthy not in str(refused.value)

    assert [(p.target, p.event_id) for p in heard] == [(healthy, 1)], "the event Redis took still reaches subscribers"


async def test_an_error_reply_fails_only_its_own_caller(redis: Redis) -> None:
    script = BatchedScript(redis, _COUNT_OR_REFUSE, [], [])
    key = f"batched-test:{id(script)}"

    outcomes = await asyncio.gather(
        script([key], ["ok"]), script([key], ["fail"]), script([key], ["ok"]), return_exceptions=True
    )

    assert outcomes[0] == 1 and outcomes[2] == 2
    assert isinstance(outcomes[1], ResponseError) and f"refused {key}" in str(outcomes[1])
    await script.close()
    await redis.delete(key)


async def test_calls_answered_with_several_values_each_get_their_own_values_or_error(redis: Redis) -> None:
    script = BatchedScript(redis, _COUNT_TWICE_OR_REFUSE, [], [], values_per_call=2)
    key = f"batched-test:{id(script)}"

    outcomes = await asyncio.gather(
        script([key], ["ok"]), script([key], ["fail"]), script([key], ["ok"]), return_exceptions=True
    )

    assert outcomes[0] == [1, 2] and outcomes[2] == [2, 4]
    assert isinstance(outcomes[1], ResponseError) and f"refused {key}" in str(outcomes[1])
    await script.close()
    await redis.delete(key)


async def test_publishing_goes_on_after_redis_forgets_its_scripts(bus: MessageBus, redis: Redis) -> None:
    room = user_room("baraka")
    first = await bus.publish(room, "booking.updated", {"n": 1})
    await redis.script_flush()

    after = await asyncio.gather(*(bus.publish(room, "booking.updated", {"n": n}) for n in range(2, 5)))

    assert [first.event_id, *sorted(p.event_id for p in after)] == [1, 2, 3, 4]


async def test_a_room_whose_history_key_is_broken_fails_only_its_own_publish(bus: MessageBus, redis: Redis) -> None:
    broken, healthy = user_room("otieno"), user_room("akinyi")
    await redis.set(bus.keys.history(broken), "not a stream")

    outcomes = await asyncio.gather(
        bus.publish(healthy, "booking.updated", {"n": 1}),
        bus.publish(broken, "booking.updated", {"n": 1}),
        bus.publish(healthy, "booking.updated", {"n": 2}),
        return_exceptions=True,
    )

    assert isinstance(outcomes[1], BusUnavailable) and "WRONGTYPE" in str(outcomes[1])
    assert [outcomes[0].event_id, outcomes[2].event_id] == [1, 2]
    assert [event.id for event in (await bus.log.read_after(healthy, 0)).events] == [1, 2]


async def test_a_burst_reaches_a_node_as_one_message_with_each_rooms_events_in_id_order(
    bus: MessageBus, redis: Redis, mongodb_url: str, redis_url: str
) -> None:
    settings = make_settings(mongodb_url, redis_url)
    node = NodePresence(redis, bus.keys, settings.realtime, "node-under-test")
    rooms = [user_room("amani"), user_room("zawadi")]
    await node.beat()
    for room in rooms:
        await redis.hset(bus.keys.presence(room), node.node_id, 1)
    subscription = redis.pubsub()
    await subscription.subscribe(bus.keys.node_channel(node.node_id))
    await subscription.get_message(timeout=1)  # the subscribe confirmation

    await asyncio.gather(*(bus.publish(rooms[n % 2], "booking.updated", {"n": n}) for n in range(20)))

    message = await subscription.get_message(timeout=5)
    lines = message["data"].split(NODE_MESSAGE_SEPARATOR)
    assert len(lines) == 20, "the whole burst in one message"
    for room in rooms:
        ids = [int(line.split(b" ")[1]) for line in lines if line.split(b" ")[0] == room.encode()]
        assert ids == list(range(1, 11))
    await subscription.aclose()
