"""The allow-list on a real server: registered with the command line, enforced on WebSocket
subscriptions as on HTTP (GET with the hash alone included)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from casegraph.domain.enums import Role
from casegraph.persisted_queries.protocol import document_hash
from tests.live.support import (
    GraphQLHttp,
    ServerProcess,
    mint_token,
    run_cli,
    server_env,
    start_server,
    ws_connect,
)

SET_UP = """mutation SetUp($user: ID!) {
  createAssignmentGroup(input: {code: "ROADS", name: "Roads"}) { errors { code } }
  addGroupMember(input: {groupCode: "ROADS", userId: $user}) { errors { code } }
}"""
COUNTERS = 'subscription Counters { queueCounters(groupCode: "ROADS") { groupCode total } }'
UNREGISTERED_COUNTERS = 'subscription { queueCounters(groupCode: "ROADS") { groupCode total asOfSequence } }'
GROUPS = "query Groups { assignmentGroups { code } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("live-persisted-queries")
    env = server_env(database_url=f"sqlite://{workdir / 'casegraph.sqlite3'}", persisted_queries="allowlist")
    run_cli(["migrate"], env, workdir)
    for name, document in (("set-up", SET_UP), ("counters", COUNTERS), ("groups", GROUPS)):
        (workdir / f"{name}.graphql").write_text(document, encoding="utf-8")
    run_cli(["persisted-queries", "register", "set-up.graphql", "counters.graphql", "groups.graphql"], env, workdir)
    process = start_server("persisted-queries", env, workdir)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def dana(server: ServerProcess) -> str:
    """An agent of ROADS, set up with the registered mutation."""
    token = mint_token("dana", Role.AGENT)
    with httpx.Client(base_url=server.http_url, timeout=15.0) as http:
        http.post("/graphql", json={"query": GROUPS}, headers={"Authorization": f"Bearer {token}"})  # provisions dana
        response = http.post(
            "/graphql",
            json={"query": SET_UP, "variables": {"user": "dana"}},
            headers={"Authorization": f"Bearer {mint_token('ada', Role.ADMIN)}"},
        )
    assert response.json() == {"data": {"createAssignmentGroup": {"errors": []}, "addGroupMember": {"errors": []}}}, (
        response.text
    )
    return token


async def test_a_registered_subscription_runs_over_a_socket(server: ServerProcess, dana: str) -> None:
    async with ws_connect(server.ws_url, dana) as connection:
        counters = await connection.subscribe(COUNTERS)
        assert await counters.next() == {"groupCode": "ROADS", "total": 0}


async def test_an_unregistered_subscription_is_refused_over_a_socket(server: ServerProcess, dana: str) -> None:
    async with ws_connect(server.ws_url, dana) as connection:
        refused = await connection.subscribe(UNREGISTERED_COUNTERS)
        message = await refused.message()
    assert message["type"] == "error"
    [error] = message["payload"]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"


async def test_an_unregistered_query_is_refused_over_http_and_a_registered_hash_runs_over_get(
    server: ServerProcess, dana: str
) -> None:
    async with GraphQLHttp(server.http_url) as gql:
        refused = await gql.execute("{ assignmentGroups { code name } }", token=dana)
        extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": document_hash(GROUPS)}})
        by_hash = await gql.client.get(
            "/graphql", params={"extensions": extensions}, headers={"Authorization": f"Bearer {dana}"}
        )
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["PERSISTED_QUERY_NOT_ALLOWED"]
    assert by_hash.json() == {"data": {"assignmentGroups": [{"code": "ROADS"}]}}
