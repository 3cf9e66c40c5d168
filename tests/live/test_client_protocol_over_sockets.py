"""The request errors' codes over WebSocket, as over HTTP (tests/graphql/test_client_protocol.py).

A real server (``casegraph serve``): graphql-transport-ws answers a document that cannot run
with an ``error`` message whose errors carry ``GRAPHQL_PARSE_FAILED`` or
``GRAPHQL_VALIDATION_FAILED``; the legacy protocol's ``error`` message carries them too. The
codes depend on the phase that failed, not on the database: SQLite only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live.support import LEGACY_WS, TRANSPORT_WS, LiveWorld, ServerProcess, live_world, sqlite_server, ws_connect


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with sqlite_server(tmp_path_factory, "client-protocol") as process:
        yield process


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> LiveWorld:
    return live_world(server)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("subscription {", "GRAPHQL_PARSE_FAILED"),
        ("query { me { id } } }", "GRAPHQL_PARSE_FAILED"),
        ("subscription { caseEvents { noSuchField } }", "GRAPHQL_VALIDATION_FAILED"),
        ("query { me { noSuchField } }", "GRAPHQL_VALIDATION_FAILED"),
    ],
    ids=["subscription-syntax", "query-syntax", "subscription-validation", "query-validation"],
)
async def test_request_errors_over_a_socket_carry_their_codes(
    server: ServerProcess, world: LiveWorld, protocol: str, document: str, code: str
) -> None:
    async with ws_connect(server.ws_url, world.token("dana"), protocol=protocol) as connection:
        # when
        operation = await connection.subscribe(document)
        message = await operation.message()
    # then: an error message, every error coded
    assert message["type"] == "error", message
    errors = (
        message["payload"]
        if isinstance(message["payload"], list)
        else message["payload"].get("errors", [message["payload"]])
    )
    assert errors and {error.get("extensions", {}).get("code") for error in errors} == {code}, message
