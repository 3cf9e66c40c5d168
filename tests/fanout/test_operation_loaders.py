"""Loaders belong to the operation, also on a WebSocket (issue 15 item 2).

A socket's context lives as long as the connection and Strawberry runs every operation with it:
loaders kept there would cache for the whole connection, and two operations in flight at once
would share (and reset) one cache. Each operation runs with its own copy of the connection's
context instead, driven here through the real handlers of both protocols.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from strawberry.schema import Schema

from casegraph.events.live import LiveEvents
from casegraph.fanout.connection_context import ConnectionContext
from casegraph.fanout.sessions import GuardedLegacyWSHandler
from casegraph.fanout.transport_ws import LiveTransportWSHandler
from resolvers import loaders as loaders_module
from resolvers.loaders import Loaders
from tests.helpers import World, insert_case

# Work notes and tasks are outside the compiled path's plans: resolvers run, and use loaders.
CASE = """
query Case($id: ID!) { case(id: $id) { id requester { id } caseType { code } workNotes { body } tasks { title } } }
"""


class RecordingSocket:
    """The handler's side of a socket: what it sends is kept."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_json(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def close(self, code: int, reason: str) -> None:
        raise AssertionError(f"the socket was closed: {code} {reason}")


async def _subscribe_both(
    protocol: str, connection: ConnectionContext, schema: Schema, socket: RecordingSocket, variables: dict[str, Any]
) -> list[asyncio.Task[Any]]:
    """Two queries on one acknowledged socket, both started before either has run."""
    if protocol == "graphql-transport-ws":
        current = LiveTransportWSHandler(None, socket, connection, None, schema, timedelta(seconds=30))
        current.connection_acknowledged = True
        for operation_id in ("1", "2"):
            await current.handle_subscribe(
                {
                    "id": operation_id,
                    "type": "subscribe",
                    "payload": {"query": CASE, "variables": variables},
                }
            )
        return [operation.task for operation in current.operations.values() if operation.task is not None]
    legacy = GuardedLegacyWSHandler(None, socket, connection, None, schema, False, None)
    legacy.connection_acknowledged = True
    for operation_id in ("1", "2"):
        await legacy.handle_start(
            {"id": operation_id, "type": "start", "payload": {"query": CASE, "variables": variables}}
        )
    return list(legacy.tasks.values())


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_two_operations_in_flight_on_one_socket_do_not_share_loaders(
    world: World, live: LiveEvents, schema: Schema, monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    # given: an agent's acknowledged socket, a case, and a count of the loader sets built
    built: list[Loaders] = []
    original = loaders_module.Loaders.__init__

    def counting(self: Loaders, actor: object) -> None:
        built.append(self)
        original(self, actor)  # type: ignore[arg-type]

    monkeypatch.setattr(loaders_module.Loaders, "__init__", counting)
    case = await insert_case(world)
    connection = ConnectionContext(actor=world.actor("agent"), live=live, clock=world.clock, over_websocket=True)
    socket = RecordingSocket()

    # when: two queries are started on the socket before either has run
    tasks = await _subscribe_both(protocol, connection, schema, socket, {"id": case.id})
    assert len(tasks) == 2
    await asyncio.gather(*tasks)

    # then: both were answered, each with a loader set of its own, for the connection's actor,
    # and the connection itself holds none for the next operation to find
    answers = {message["id"]: message["payload"] for message in socket.sent if message["type"] in {"next", "data"}}
    assert {key: payload["data"]["case"]["id"] for key, payload in answers.items()} == {"1": case.id, "2": case.id}
    assert all("errors" not in payload for payload in answers.values())
    assert len(built) == 2 and built[0] is not built[1]
    assert all(loaders.actor is connection.actor for loaders in built)
    assert connection._loaders is None


async def test_an_operation_context_is_the_connections_as_it_is_now_with_loaders_of_its_own(world: World) -> None:
    # given: a connection whose loaders were (wrongly) made on the connection itself
    connection = ConnectionContext(actor=world.actor("agent"), clock=world.clock, over_websocket=True)
    kept = connection.loaders

    # when: an operation starts, and the connection's actor changes after
    operation = connection.for_operation()
    connection.actor = world.actor("manager")

    # then: the operation has the actor it started with, the session, and loaders of its own
    assert operation.actor is world.actor("agent")
    assert operation.session is connection.session
    assert operation.loaders is not kept and operation.loaders.actor is operation.actor
