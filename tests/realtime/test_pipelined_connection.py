"""The publishing connection: calls written back to back each get their own replies; a lost connection is replaced."""

import asyncio

import hiredis
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.messaging.pipelined import PipelinedConnection
from gateway.redis_client import create_redis
from tests.conftest import make_settings
from tests.realtime.conftest import SilencingProxy


def packed(*commands: tuple[object, ...]) -> bytes:
    return b"".join(hiredis.pack_command(command) for command in commands)


async def test_calls_written_back_to_back_each_get_their_own_replies_in_write_order(redis: Redis) -> None:
    connection = PipelinedConnection(redis)
    key = f"pipelined-test:{id(connection)}"

    answers = await asyncio.gather(
        *(connection.execute(packed(("INCR", key), ("GET", key)), 2) for _ in range(100))
    )

    assert [count for count, _ in answers] == list(range(1, 101)), "replies handed out in the order written"
    assert all(int(read) == count for count, read in answers), "each call's two replies stay together"
    await connection.close()
    await redis.delete(key)


async def test_an_error_reply_is_answered_to_its_call_and_the_connection_goes_on(redis: Redis) -> None:
    connection = PipelinedConnection(redis)
    key = f"pipelined-test:{id(connection)}"
    await redis.set(key, "not a number")

    [refused] = await connection.execute(packed(("INCR", key)), 1)
    [pong] = await connection.execute(packed(("PING",)), 1)

    assert isinstance(refused, ResponseError) and pong == b"PONG"
    await connection.close()
    await redis.delete(key)


async def test_a_connection_closed_by_redis_is_replaced_by_the_next_call(redis: Redis) -> None:
    connection = PipelinedConnection(redis)
    [first_id] = await connection.execute(packed(("CLIENT", "ID")), 1)

    await redis.client_kill_filter(_id=first_id)
    outcomes = []
    for _ in range(3):
        try:
            outcomes.append(await connection.execute(packed(("CLIENT", "ID")), 1))
            break
        except RedisConnectionError as error:
            outcomes.append(error)

    # The call racing the close may learn of it; the one after it runs on a new connection.
    [second_id] = outcomes[-1]
    assert len(outcomes) <= 2 and second_id != first_id
    await connection.close()


async def test_calls_on_a_path_gone_silent_time_out_and_the_next_call_gets_through(
    proxy: tuple[SilencingProxy, str], mongodb_url: str
) -> None:
    relay, proxied_url = proxy
    settings = make_settings(mongodb_url, proxied_url, redis={"socket_timeout_s": 0.5})
    proxied = create_redis(settings.redis)
    connection = PipelinedConnection(proxied)
    assert await connection.execute(packed(("PING",)), 1) == [b"PONG"]

    relay.silence()
    with pytest.raises(RedisTimeoutError):
        await asyncio.gather(connection.execute(packed(("PING",)), 1), connection.execute(packed(("PING",)), 1))

    assert await connection.execute(packed(("PING",)), 1) == [b"PONG"], "a new connection through the relay"
    await connection.close()
    await proxied.aclose()
