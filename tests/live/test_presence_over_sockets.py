"""Collision awareness over real sockets: who has a case open, and who is editing it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.live.support import (
    GraphQLHttp,
    LiveSubscription,
    LiveWorld,
    ServerProcess,
    create_case,
    live_world,
    sqlite_server,
    ws_connect,
)

PRESENCE_SUBSCRIPTION = """
subscription Presence($caseId: ID!, $editing: Boolean!) {
  casePresence(caseId: $caseId, editing: $editing) { editing user { id } }
}
"""
SET_EDITING_MUTATION = "mutation($caseId: ID!, $editing: Boolean!) { setEditing(caseId: $caseId, editing: $editing) }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with sqlite_server(tmp_path_factory, "presence") as process:
        yield process


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> LiveWorld:
    return live_world(server)


@pytest.fixture
async def gql(server: ServerProcess) -> AsyncIterator[GraphQLHttp]:
    async with GraphQLHttp(server.http_url) as client:
        yield client


async def next_view(watcher: LiveSubscription) -> list[tuple[str, bool]]:
    viewers: list[dict[str, Any]] = await watcher.next()  # type: ignore[assignment]
    return sorted((v["user"]["id"], v["editing"]) for v in viewers)


async def test_viewers_see_each_other_arrive_start_editing_and_leave(
    server: ServerProcess, world: LiveWorld, gql: GraphQLHttp
) -> None:
    # given
    case_id, _ = await create_case(gql, world, "alice", "Who is looking?")
    async with ws_connect(server.ws_url, world.token("dana")) as dana_ws:
        dana = await dana_ws.subscribe(PRESENCE_SUBSCRIPTION, {"caseId": case_id, "editing": False})
        assert await next_view(dana) == [("dana", False)]
        # when: eli opens the case too
        async with ws_connect(server.ws_url, world.token("eli")) as eli_ws:
            eli = await eli_ws.subscribe(PRESENCE_SUBSCRIPTION, {"caseId": case_id, "editing": False})
            assert await next_view(eli) == [("dana", False), ("eli", False)]
            assert await next_view(dana) == [("dana", False), ("eli", False)]
            # and starts editing
            await gql.data(SET_EDITING_MUTATION, {"caseId": case_id, "editing": True}, token=world.token("eli"))
            assert await next_view(dana) == [("dana", False), ("eli", True)]
        # then: eli's connection is gone, and so is eli
        assert await next_view(dana) == [("dana", False)]


async def test_presence_on_a_case_one_may_not_see_is_refused(
    server: ServerProcess, world: LiveWorld, gql: GraphQLHttp
) -> None:
    case_id, _ = await create_case(gql, world, "alice", "Private")
    async with ws_connect(server.ws_url, world.token("bob")) as bob_ws:
        bob = await bob_ws.subscribe(PRESENCE_SUBSCRIPTION, {"caseId": case_id, "editing": False})
        message = await bob.message()
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND", message
