"""Followed subscriptions over real sockets (``casegraph serve``): one payload for many viewers.

A dashboard's subscription is executed once per visibility class and written to every socket
of the class; the frames differ only by the operation id. Around it the protocol behaves as
before: ``complete`` frees the id, and queries run on the same socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.live.support import (
    GraphQLHttp,
    GraphQLWebSocket,
    LiveWorld,
    ServerProcess,
    create_case,
    live_world,
    sqlite_server,
    ws_connect,
)

QUEUE = 'subscription Queue { queueEvents(groupCode: "ROADS") { sequence action case { id number title status } } }'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with sqlite_server(tmp_path_factory, "fanout") as process:
        yield process


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> LiveWorld:
    return live_world(server)


@contextlib.asynccontextmanager
async def sockets(server: ServerProcess, world: LiveWorld, people: list[str]) -> AsyncIterator[list[GraphQLWebSocket]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(ws_connect(server.ws_url, world.token(who))) for who in people]


async def active_subscriptions(server: ServerProcess, expected: int) -> None:
    """Wait until the server counts ``expected`` live subscriptions (each is set up by then)."""
    async with httpx.AsyncClient(base_url=server.http_url, timeout=5) as http:
        async with asyncio.timeout(10):
            while True:
                lines = (await http.get("/metrics")).text.splitlines()
                if f"casegraph_active_subscriptions {float(expected)}" in lines:
                    return
                await asyncio.sleep(0.05)


async def read_raw(connection: GraphQLWebSocket) -> None:
    """From now on frames are read as sent (``ws.recv``), not by the connection's reader task."""
    assert connection._reader is not None
    connection._reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await connection._reader


async def test_every_socket_of_a_group_gets_the_same_payload_under_its_own_id(
    server: ServerProcess, world: LiveWorld
) -> None:
    # given: twelve dashboards of the ROADS queue, from two agents, each with its own ids
    people = ["dana", "eli"] * 6
    async with sockets(server, world, people) as connections, GraphQLHttp(server.http_url) as gql:
        for number, connection in enumerate(connections):
            connection._counter = number * 10  # ids "1", "11", "21"…
            await connection.subscribe(QUEUE)
        await active_subscriptions(server, len(people))
        for connection in connections:
            await read_raw(connection)
        # when
        await create_case(gql, world, "alice", "Pothole seen by every dashboard")
        frames = [str(await asyncio.wait_for(connection.ws.recv(), 10)) for connection in connections]
    # then
    messages = [json.loads(frame) for frame in frames]
    assert [message["id"] for message in messages] == [str(number * 10 + 1) for number in range(len(people))]
    assert all(message["type"] == "next" for message in messages)
    assert len({json.dumps(message["payload"], sort_keys=True) for message in messages}) == 1
    assert messages[0]["payload"]["data"]["queueEvents"]["case"]["title"] == "Pothole seen by every dashboard"


async def test_a_completed_subscription_stops_and_its_id_can_be_used_again_beside_a_query(
    server: ServerProcess, world: LiveWorld
) -> None:
    async with ws_connect(server.ws_url, world.token("dana")) as connection, GraphQLHttp(server.http_url) as gql:
        # given
        first = await connection.subscribe(QUEUE)
        await active_subscriptions(server, 1)
        await first.stop()
        await active_subscriptions(server, 0)
        # when: the same id again, and a query on the same socket
        connection._counter = 0
        again = await connection.subscribe(QUEUE)
        me = await connection.subscribe("query { me { id } }")
        assert (await me.next())["id"] == "dana"
        await active_subscriptions(server, 1)
        await create_case(gql, world, "alice", "After the restart of the subscription")
        # then
        event = await again.next()
        assert event["case"]["title"] == "After the restart of the subscription"
