"""Reading a room's history on (re)connect: what a resume gets, and that a fresh connect reads none of it."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis

from gateway.messaging import MessageBus, user_room

T = TypeVar("T")


async def commands_during(redis: Redis, action: Callable[[], Awaitable[T]]) -> tuple[T, list[str]]:
    """Every command Redis ran while `action` ran, as MONITOR shows them; an ECHO marks where it ended."""
    done = f"done-{uuid.uuid4().hex}"
    seen: list[str] = []
    async with redis.monitor() as monitor:
        result = await action()
        await redis.echo(done)
        while done not in (command := (await monitor.next_command())["command"]):
            seen.append(command)
    return result, seen


async def test_a_connect_with_nothing_to_resume_gets_the_latest_id_without_reading_the_history(
    bus: MessageBus, redis: Redis
) -> None:
    room = user_room("agent")
    await asyncio.gather(*(bus.publish(room, "booking.updated", {"n": n}) for n in range(300)))

    history, commands = await commands_during(redis, lambda: bus.log.read_after(room, None))

    assert (history.events, history.latest_id, history.complete) == ([], 300, False)
    history_key = bus.keys.history(room)
    reads = [command for command in commands if history_key in command and not command.startswith("EVALSHA")]
    assert not reads, f"300 kept events read for nothing: {reads}"


async def test_a_resume_gets_exactly_the_events_after_its_last_id_in_order(bus: MessageBus) -> None:
    room = user_room("guest")
    for n in range(60):
        await bus.publish(room, "payment.updated", {"n": n})

    history = await bus.log.read_after(room, 45)

    assert [event.id for event in history.events] == list(range(46, 61))
    assert (history.latest_id, history.complete) == (60, True)
    assert (await bus.log.read_after(room, 60)).events == [], "a client that saw everything gets nothing again"


async def test_a_resume_from_an_id_the_window_no_longer_reaches_reads_no_kept_event(bus: MessageBus, redis: Redis) -> None:
    room = user_room("returning")
    for n in range(80):
        await bus.publish(room, "booking.updated", {"n": n})
    history_key = bus.keys.history(room)
    await redis.xtrim(history_key, minid="31-0", approximate=False)  # the window has moved past events 1 to 30

    history, commands = await commands_during(redis, lambda: bus.log.read_after(room, 10))

    assert (history.events, history.latest_id, history.complete) == ([], 80, False)
    ranges = [command for command in commands if "XRANGE" in command.upper() and history_key in command]
    assert ranges and all("+" not in command for command in ranges), f"the kept events were read: {ranges}"


async def test_a_partial_read_gets_every_kept_event_after_the_id_and_says_events_are_missing(bus: MessageBus, redis: Redis) -> None:
    room = user_room("refilled")
    for n in range(40):
        await bus.publish(room, "payment.updated", {"n": n})
    await redis.xtrim(bus.keys.history(room), minid="21-0", approximate=False)

    history = await bus.log.read_after(room, 5, partial=True)

    assert [event.id for event in history.events] == list(range(21, 41))
    assert (history.latest_id, history.complete) == (40, False)
    assert b'"n":39' in history.events[-1].envelope


async def test_reads_of_many_rooms_in_one_loop_turn_each_get_their_own_rooms_events(bus: MessageBus) -> None:
    rooms = [user_room(f"storm-{n}") for n in range(40)]
    for count, room in enumerate(rooms, start=1):
        await asyncio.gather(*(bus.publish(room, "booking.updated", {"room": room, "n": n}) for n in range(count)))

    # As a reconnect storm asks: some resume, some start fresh, all at once (one script call, several runs).
    asks = [(room, None if index % 3 == 0 else index // 2) for index, room in enumerate(rooms)]
    slices = await asyncio.gather(*(bus.log.read_after(room, after) for room, after in asks))

    for (room, after), (index, history) in zip(asks, enumerate(slices), strict=True):
        latest = index + 1
        assert history.latest_id == latest, room
        expected = [] if after is None else list(range(after + 1, latest + 1))
        assert [event.id for event in history.events] == expected, room
        assert all(f'"room":"{room}"'.encode() in event.envelope for event in history.events), room
