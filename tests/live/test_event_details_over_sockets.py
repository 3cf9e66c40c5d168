"""Event details per viewer, over real sockets (issue 14, section 5): a requester reads only the
public part of each event's ``details`` — in ``history`` over HTTP and in ``caseEvents`` over a
WebSocket — while staff keep the whole summary. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import BACKENDS
from tests.live.support import (
    GraphQLHttp,
    LiveWorld,
    ServerProcess,
    backend_database,
    case_events_query,
    create_case,
    live_world,
    server_env,
    start_server,
    ws_connect,
)

EVENT = "sequence action type details"
HISTORY_QUERY = "query History($id: ID!) { case(id: $id) { history { edges { node { action details } } } } }"
INTERNAL_KEYS = {"workNote", "mentions", "duplicateId", "duplicateOfId", "assigneeId"}


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp(f"details-{request.param}")
    with backend_database(str(request.param), workdir) as url:
        process = start_server(f"details-{request.param}", server_env(database_url=url), workdir)
        try:
            yield process
        finally:
            process.stop()


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> LiveWorld:
    return live_world(server)


def leaked(details: dict[str, Any]) -> set[str]:
    return INTERNAL_KEYS & set(details)


async def test_a_requester_never_reads_internal_flags_mentions_or_other_requesters_case_ids(
    server: ServerProcess, world: LiveWorld
) -> None:
    async with GraphQLHttp(server.http_url) as gql:
        # given: alice's case and bob's report of the same hole, both taken on by dana
        alice_case, alice_created = await create_case(gql, world, "alice", "Hole on Elm Street")
        bob_case, bob_created = await create_case(gql, world, "bob", "Hole on Elm Street again")
        for case_id in (alice_case, bob_case):
            await gql.mutate("assignToMe", {"caseId": case_id}, "case { id }", token=world.token("dana"))
        async with (
            ws_connect(server.ws_url, world.token("alice")) as alice_socket,
            ws_connect(server.ws_url, world.token("bob")) as bob_socket,
        ):
            alice_feed = await alice_socket.subscribe(
                case_events_query(EVENT), {"caseId": alice_case, "after": alice_created}
            )
            bob_feed = await bob_socket.subscribe(case_events_query(EVENT), {"caseId": bob_case, "after": bob_created})
            # the assignment is replayed first, so each feed is live before we act; it names no assignee
            replayed = [*(await alice_feed.take(1)), *(await bob_feed.take(1))]
            assert [leaked(event["details"]) for event in replayed] == [set(), set()]
            # when: dana writes a work note mentioning eli, then links bob's case to alice's
            await gql.mutate(
                "updateCase",
                {"caseId": alice_case, "workNote": "@eli same hole as before"},
                "case { id }",
                token=world.token("dana"),
            )
            await gql.mutate(
                "markDuplicate",
                {"caseId": bob_case, "duplicateOfId": alice_case},
                "case { id }",
                token=world.token("dana"),
            )
            alice_live = await alice_feed.take(2)
            bob_live = await bob_feed.take(1)
        alice_history = await gql.data(HISTORY_QUERY, {"id": alice_case}, token=world.token("alice"))
        bob_history = await gql.data(HISTORY_QUERY, {"id": bob_case}, token=world.token("bob"))
        staff_history = await gql.data(HISTORY_QUERY, {"id": alice_case}, token=world.token("dana"))
    # then: over the socket, the work note is an update without internal flags, the link without ids
    assert [event["action"] for event in alice_live] == ["UPDATE", "MARK_DUPLICATE"]
    assert [leaked(event["details"]) for event in alice_live + bob_live] == [set(), set(), set()]
    assert alice_live[0]["details"].get("comment") is False and bob_live[0]["details"]["resolutionCode"] == "DUPLICATE"
    # and over HTTP, history tells the requesters no more
    for history in (alice_history, bob_history):
        assert [leaked(edge["node"]["details"]) for edge in history["case"]["history"]["edges"]] == [set()] * len(
            history["case"]["history"]["edges"]
        )
    # while staff still read the whole summary
    staff = {edge["node"]["action"]: edge["node"]["details"] for edge in staff_history["case"]["history"]["edges"]}
    assert staff["UPDATE"]["workNote"] is True and staff["UPDATE"]["mentions"] == ["eli"]
    assert staff["MARK_DUPLICATE"]["duplicateId"] == bob_case


async def test_staff_and_the_requester_watching_one_case_each_get_their_own_details(
    server: ServerProcess, world: LiveWorld
) -> None:
    async with GraphQLHttp(server.http_url) as gql:
        # given: dana and alice both watch alice's case (the fan-out serves both from one plan)
        case_id, created = await create_case(gql, world, "alice", "Broken bench")
        async with (
            ws_connect(server.ws_url, world.token("dana")) as staff_socket,
            ws_connect(server.ws_url, world.token("alice")) as requester_socket,
        ):
            feeds = [
                await socket.subscribe(case_events_query(EVENT), {"caseId": case_id, "after": created})
                for socket in (staff_socket, requester_socket)
            ]
            await gql.mutate("assignToMe", {"caseId": case_id}, "case { id }", token=world.token("dana"))
            for feed in feeds:
                await feed.take(1)
            # when: dana adds a work note
            await gql.mutate(
                "updateCase",
                {"caseId": case_id, "workNote": "Order a new bench"},
                "case { id }",
                token=world.token("dana"),
            )
            [staff_event], [requester_event] = [await feed.take(1) for feed in feeds]
    # then: the same event, the whole summary for dana, its public part for alice
    assert staff_event["sequence"] == requester_event["sequence"]
    assert staff_event["details"]["workNote"] is True
    assert leaked(requester_event["details"]) == set() and requester_event["details"]["comment"] is False
