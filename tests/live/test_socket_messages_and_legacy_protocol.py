"""What a real server (``casegraph serve``) does with odd WebSocket messages and the legacy protocol.

- a text message that is valid JSON but not an object (or an operation without an object
  payload) closes the socket with 4400 and a reason, on both protocols, and logs no traceback;
- over the legacy ``graphql-ws`` protocol a query or a mutation is answered once (``data``, then
  ``complete``) as subscriptions-transport-ws servers do, not as an unexpected error;
- legacy ``caseEvents``/``queueEvents`` subscribers are followed like modern ones: one payload
  for both protocols' sockets, differing by the id and the message type only.

On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.live.support import (
    LEGACY_WS,
    TRANSPORT_WS,
    GraphQLHttp,
    LiveWorld,
    ServerProcess,
    create_case,
    live_world,
    postgres_database,
    server_env,
    start_server,
    ws_connect,
)

QUEUE = 'subscription Queue { queueEvents(groupCode: "ROADS") { sequence action case { id title } } }'
CREATE = (
    "mutation Create($input: CreateCaseInput!) { createCase(input: $input) { case { title status } errors { code } } }"
)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp(f"messages-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "postgres":
            database_url = stack.enter_context(postgres_database())
        else:
            database_url = f"sqlite://{workdir / 'casegraph.sqlite3'}"
        process = start_server(f"messages-{request.param}", server_env(database_url=database_url), workdir)
        stack.callback(process.stop)
        yield process


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> LiveWorld:
    return live_world(server)


async def active_subscriptions(server: ServerProcess, expected: int) -> None:
    """Wait until the server counts ``expected`` followed subscriptions."""
    async with httpx.AsyncClient(base_url=server.http_url, timeout=5) as http:
        async with asyncio.timeout(10):
            while (
                f"casegraph_active_subscriptions {float(expected)}"
                not in (await http.get("/metrics")).text.splitlines()
            ):
                await asyncio.sleep(0.05)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
@pytest.mark.parametrize(
    "text",
    [
        "[1, 2]",
        "42",
        '"connection_init"',
        "null",
        '{"id": "1", "type": "START", "payload": []}',
        '{"id": "1", "type": "START", "payload": "x"}',
        '{"id": 1, "type": "START", "payload": {"query": "{ me { id } }"}}',
    ],
    ids=["list", "number", "string", "null", "list-payload", "string-payload", "number-id"],
)
async def test_json_that_is_not_a_message_closes_4400_without_a_traceback(
    server: ServerProcess, world: LiveWorld, protocol: str, text: str
) -> None:
    text = text.replace("START", "subscribe" if protocol == TRANSPORT_WS else "start")
    # given an acknowledged connection
    async with ws_connect(server.ws_url, world.token("dana"), protocol=protocol) as connection:
        # when
        await connection.ws.send(text)
        code, reason = await connection.wait_closed()
    # then
    assert code == 4400, (code, reason)
    assert reason.startswith("A ") or reason.startswith("'"), reason
    assert "Traceback" not in server.log_tail(400)


async def test_legacy_queries_and_mutations_are_answered_then_completed(
    server: ServerProcess, world: LiveWorld
) -> None:
    async with ws_connect(server.ws_url, world.token("alice"), protocol=LEGACY_WS) as connection:
        # when
        me = await connection.subscribe("query Me { me { id } }")
        created = await connection.subscribe(
            CREATE,
            {
                "input": {
                    "caseTypeCode": "POTHOLE",
                    "title": "Filed over the legacy protocol",
                    "description": "Deep",
                    "impact": 2,
                    "urgency": 2,
                }
            },
        )
        answers = [await me.message(), await me.message(), await created.message(), await created.message()]
    # then: data, then complete, for each
    assert answers[0] == {"id": me.id, "type": "data", "payload": {"data": {"me": {"id": "alice"}}}}
    assert answers[2] == {
        "id": created.id,
        "type": "data",
        "payload": {
            "data": {"createCase": {"case": {"title": "Filed over the legacy protocol", "status": "NEW"}, "errors": []}}
        },
    }
    assert [answers[1]["type"], answers[3]["type"]] == ["complete", "complete"]


async def set_up_subscriptions(server: ServerProcess, name: str) -> int:
    """Subscription operations named ``name`` whose set-up has ended.

    A followed subscription's operation ends once its subscriber is registered (the dispatcher
    serves it from then on); one iterated by a task of its own ends only when it is stopped.
    """
    async with httpx.AsyncClient(base_url=server.http_url, timeout=5) as http:
        text = (await http.get("/metrics")).text
    prefix = f'casegraph_graphql_operations_total{{operation_name="{name}",operation_type="subscription"}} '
    return next((int(float(line.removeprefix(prefix))) for line in text.splitlines() if line.startswith(prefix)), 0)


async def test_legacy_and_modern_subscribers_share_one_payload(server: ServerProcess, world: LiveWorld) -> None:
    # given: dana on the legacy protocol and on the modern one, eli on the legacy one
    async with contextlib.AsyncExitStack() as stack, GraphQLHttp(server.http_url) as gql:
        legacy = await stack.enter_async_context(ws_connect(server.ws_url, world.token("dana"), protocol=LEGACY_WS))
        modern = await stack.enter_async_context(ws_connect(server.ws_url, world.token("dana")))
        other = await stack.enter_async_context(ws_connect(server.ws_url, world.token("eli"), protocol=LEGACY_WS))
        before = await set_up_subscriptions(server, "Queue")
        subscriptions = [await connection.subscribe(QUEUE) for connection in (legacy, modern, other)]
        await active_subscriptions(server, 3)
        # every one is followed: none is iterated by a task of its own
        assert await set_up_subscriptions(server, "Queue") == before + 3
        # when
        await create_case(gql, world, "alice", "Seen on both protocols")
        messages: list[dict[str, Any]] = [await subscription.message() for subscription in subscriptions]
        for subscription in subscriptions:
            await subscription.stop()
        await active_subscriptions(server, 0)
    # then: the same payload, as "data" for the legacy sockets and "next" for the modern one
    assert [message["type"] for message in messages] == ["data", "next", "data"]
    assert len({json.dumps(message["payload"], sort_keys=True) for message in messages}) == 1
    assert messages[0]["payload"]["data"]["queueEvents"]["case"]["title"] == "Seen on both protocols"


async def test_case_events_of_one_case_are_followed_and_shared_on_both_protocols(
    server: ServerProcess, world: LiveWorld
) -> None:
    watch = "subscription WatchOne($caseId: ID) { caseEvents(caseId: $caseId) { sequence action case { title } } }"
    async with contextlib.AsyncExitStack() as stack, GraphQLHttp(server.http_url) as gql:
        # given: one case, watched by dana on both protocols and by its requester on the legacy one
        case_id, _ = await create_case(gql, world, "alice", "Watched on both protocols")
        connections = [
            await stack.enter_async_context(ws_connect(server.ws_url, world.token("dana"), protocol=LEGACY_WS)),
            await stack.enter_async_context(ws_connect(server.ws_url, world.token("dana"))),
            await stack.enter_async_context(ws_connect(server.ws_url, world.token("alice"), protocol=LEGACY_WS)),
        ]
        before = await set_up_subscriptions(server, "WatchOne")
        subscriptions = [await connection.subscribe(watch, {"caseId": case_id}) for connection in connections]
        await active_subscriptions(server, 3)
        assert await set_up_subscriptions(server, "WatchOne") == before + 3
        # when
        await gql.mutate(
            "updateCase", {"caseId": case_id, "comment": "Seen it."}, "case { id }", token=world.token("dana")
        )
        messages = [await subscription.message() for subscription in subscriptions]
        for subscription in subscriptions:
            await subscription.stop()
        await active_subscriptions(server, 0)
    # then
    assert [message["type"] for message in messages] == ["data", "next", "data"]
    assert len({json.dumps(message["payload"], sort_keys=True) for message in messages}) == 1
    assert messages[0]["payload"]["data"]["caseEvents"]["case"]["title"] == "Watched on both protocols"


async def set_up_all(server: ServerProcess, name: str, expected: int) -> None:
    """Wait until ``expected`` operations named ``name`` have ended their set-up."""
    async with asyncio.timeout(10):
        while await set_up_subscriptions(server, name) < expected:
            await asyncio.sleep(0.05)


async def test_presence_and_queue_counters_are_followed_and_shared_on_both_protocols(
    server: ServerProcess, world: LiveWorld
) -> None:
    presence = "subscription Presence($caseId: ID!) { casePresence(caseId: $caseId) { editing user { id } } }"
    counters = 'subscription Counters { queueCounters(groupCode: "ROADS") { total byStatus { status count } } }'
    async with contextlib.AsyncExitStack() as stack, GraphQLHttp(server.http_url) as gql:
        # given: a ROADS case; dana on both protocols and eli on the legacy one, each on its
        # presence and on the group's counters
        case_id, _ = await create_case(gql, world, "alice", "Looked at on both protocols")
        connections = [
            await stack.enter_async_context(ws_connect(server.ws_url, world.token("dana"), protocol=LEGACY_WS)),
            await stack.enter_async_context(ws_connect(server.ws_url, world.token("dana"))),
            await stack.enter_async_context(ws_connect(server.ws_url, world.token("eli"), protocol=LEGACY_WS)),
        ]
        watching, counting = (
            await set_up_subscriptions(server, "Presence"),
            await set_up_subscriptions(server, "Counters"),
        )
        viewers = [await connection.subscribe(presence, {"caseId": case_id}) for connection in connections]
        counted = [await connection.subscribe(counters) for connection in connections]
        # then: every one is followed (its operation's set-up ended), none iterated by a task
        await set_up_all(server, "Presence", watching + 3)
        await set_up_all(server, "Counters", counting + 3)
        for viewer in viewers:
            await viewer.take_until(lambda view: len(view) == 2)  # dana (two tabs fold into one) and eli
        first = [await subscription.next() for subscription in counted]
        # when: one more case of the group, and eli leaves the case
        await create_case(gql, world, "alice", "One more for the counters")
        changed = [await subscription.message() for subscription in counted]
        await viewers[2].stop()
        left = [await viewer.message() for viewer in viewers[:2]]
        for subscription in [*viewers[:2], *counted]:
            await subscription.stop()
        await active_subscriptions(server, 0)
    # then: one payload per change for both protocols ("data" for legacy, "next" for modern)
    assert [message["type"] for message in changed] == ["data", "next", "data"]
    assert len({json.dumps(message["payload"], sort_keys=True) for message in changed}) == 1
    assert changed[0]["payload"]["data"]["queueCounters"]["total"] == first[0]["total"] + 1
    assert [message["type"] for message in left] == ["data", "next"]
    assert len({json.dumps(message["payload"], sort_keys=True) for message in left}) == 1
    assert left[0]["payload"]["data"]["casePresence"] == [{"editing": False, "user": {"id": "dana"}}]
