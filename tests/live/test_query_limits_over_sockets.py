"""Query limits on a real ``casegraph serve``, configured from its environment (CASEGRAPH_MAX_*).

A subscription over WebSocket goes through the same guard as HTTP: over the limit it gets an
``error`` message for that operation (QUERY_LIMIT_EXCEEDED) and the connection stays usable.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from casegraph.domain.enums import Role
from tests.live.support import ServerProcess, mint_token, sqlite_server, ws_connect

MAX_COMPLEXITY = 500
MAX_DEPTH = 8

# caseEvents + case + history + edges + 50 × (node + case + tasks + 10 assumed tasks × id): 654.
COSTLY_FEED = "subscription { caseEvents { case { history(first: 50) { edges { node { case { tasks { id } } } } } } } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with sqlite_server(
        tmp_path_factory, "limits", max_complexity=str(MAX_COMPLEXITY), max_depth=str(MAX_DEPTH)
    ) as process:
        yield process


async def test_a_subscription_over_the_configured_complexity_is_refused_and_the_connection_stays_usable(
    server: ServerProcess,
) -> None:
    async with ws_connect(server.ws_url, mint_token("dana", Role.AGENT)) as connection:
        # when
        refused = await connection.subscribe(COSTLY_FEED)
        message = await refused.message()
        answered = await connection.subscribe("{ __typename }")
        answer = await answered.message()
    # then
    assert message["type"] == "error", message
    [error] = message["payload"]
    assert error["extensions"] == {
        "code": "QUERY_LIMIT_EXCEEDED",
        "limit": "complexity",
        "max": MAX_COMPLEXITY,
        "actual": 654,
    }
    assert answer == {"id": answered.id, "type": "next", "payload": {"data": {"__typename": "Query"}}}


async def test_a_query_over_the_configured_depth_is_refused_over_http(server: ServerProcess) -> None:
    # given: nine levels, one more than CASEGRAPH_MAX_DEPTH
    query = "{ cases(first: 1) { edges { node { history(first: 1) { edges { node { case { assignmentGroup { code } } } } } } } } }"
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
        # when
        response = await http.post(
            "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {mint_token('dana', Role.AGENT)}"}
        )
    # then
    assert response.status_code == 200, response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {
        "code": "QUERY_LIMIT_EXCEEDED",
        "limit": "depth",
        "max": MAX_DEPTH,
        "actual": MAX_DEPTH + 1,
    }
