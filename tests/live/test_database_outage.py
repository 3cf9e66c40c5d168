"""While PostgreSQL is away, clients get 503s to retry and the operator gets one warning.

issue 14, section 7: during restarts and a 10 s outage, requests failed in authentication (before
GraphQL's error handling) with ``500 text/plain "Internal Server Error"``, and the outbox
dispatcher logged a traceback every pass. Now an outage is answered 503 with ``Retry-After``,
a GraphQL-shaped body and ``extensions.code: SERVICE_UNAVAILABLE``, and each component logs it
once when it starts and once when it ends. The test stops a PostgreSQL cluster of its own under a
running server and starts it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from casegraph.outages import SERVICE_UNAVAILABLE
from tests.live.private_postgres import PrivatePostgres
from tests.live.support import (
    LEGACY_WS,
    PEOPLE,
    TRANSPORT_WS,
    GraphQLHttp,
    ServerProcess,
    create_case,
    mint_token,
    server_env,
    set_up_world,
    start_server,
)

pytestmark = pytest.mark.postgres

ME: Final = {"query": "query { me { id } }"}
OUTBOX_LOGGER: Final = "casegraph.outbox"
WAIT: Final = 30.0


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    postgres = PrivatePostgres()
    postgres.start()
    try:
        yield postgres
    finally:
        postgres.remove()


def log_records(server: ServerProcess) -> list[dict[str, Any]]:
    records = []
    for line in server.log_tail(100_000).splitlines():
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def outage_lines(server: ServerProcess, logger: str, level: str) -> list[dict[str, Any]]:
    return [
        r
        for r in log_records(server)
        if r.get("logger") == logger and r.get("level") == level and "unavailable" in str(r.get("message"))
    ]


async def wait_for(predicate: Any, what: str) -> None:
    async with asyncio.timeout(WAIT):
        while not predicate():
            await asyncio.sleep(0.1)


async def test_requests_are_answered_503_and_the_outage_is_logged_once_while_the_database_is_away(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    # given: a server on a database that works, its outbox dispatcher passing often
    server = start_server(
        "outage", server_env(database_url=private_postgres.url, outbox_interval="0.1", log_level="DEBUG"), tmp_path
    )
    token = mint_token("alice", *PEOPLE["alice"])
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=server.http_url, timeout=15) as http:
            assert (await http.post("/graphql", json=ME, headers=headers)).status_code == 200

            # when: PostgreSQL goes away
            private_postgres.stop()
            answers = [await http.post("/graphql", json=ME, headers=headers) for _ in range(3)]
            answers.append(
                await http.post("/graphql", json=ME, headers={**headers, "Accept": "application/graphql-response+json"})
            )
            # several passes of the dispatcher fail meanwhile
            await wait_for(
                lambda: (
                    len(
                        [
                            r
                            for r in log_records(server)
                            if r.get("logger") == OUTBOX_LOGGER and "still unavailable" in str(r.get("message"))
                        ]
                    )
                    >= 3
                ),
                "failed passes",
            )

            # then: every request is a 503 to retry, shaped as GraphQL
            for answer in answers:
                assert answer.status_code == 503, answer.text
                assert int(answer.headers["Retry-After"]) > 0
                assert answer.headers["content-type"].split(";")[0] in (
                    "application/json",
                    "application/graphql-response+json",
                )
                body = answer.json()
                assert [error["extensions"]["code"] for error in body["errors"]] == [SERVICE_UNAVAILABLE]
                assert "data" not in body
            # and: the dispatcher and the requests each logged the outage once, and no 500
            assert len(outage_lines(server, OUTBOX_LOGGER, "WARNING")) == 1
            assert len(outage_lines(server, "casegraph.outage", "WARNING")) == 1
            assert not [r for r in log_records(server) if r.get("level") == "ERROR"], [
                r for r in log_records(server) if r.get("level") == "ERROR"
            ]

            # when: the database is back
            private_postgres.start()
            recovered = None
            async with asyncio.timeout(WAIT):
                while recovered is None or recovered.status_code != 200:
                    recovered = await http.post("/graphql", json=ME, headers=headers)
            await wait_for(
                lambda: any(
                    "available again" in str(r.get("message"))
                    for r in log_records(server)
                    if r.get("logger") == OUTBOX_LOGGER
                ),
                "the dispatcher's recovery",
            )

        # then: requests work again, and each component logged the end of the outage once
        assert recovered.json()["data"]["me"]["id"] == "alice"
        ended = [r["logger"] for r in log_records(server) if "available again" in str(r.get("message"))]
        assert ended.count("casegraph.outage") == 1 and ended.count(OUTBOX_LOGGER) == 1, ended
    finally:
        server.stop()


async def test_a_mutation_that_loses_the_database_midway_is_answered_503(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    # given: a change to a case, authenticated and running, held up by a row lock of ours
    server = start_server("midway", server_env(database_url=private_postgres.url), tmp_path)
    try:
        world = await set_up_world(server.http_url)
        async with GraphQLHttp(server.http_url) as gql:
            case_id, _ = await create_case(gql, world, "alice", "Held up")
        update = {
            "query": "mutation M($i: UpdateCaseInput!) { updateCase(input: $i) { case { id } errors { code } } }",
            "variables": {"i": {"caseId": case_id, "description": "Deeper now."}},
        }
        lock = await asyncpg.connect(private_postgres.url.replace("postgres://", "postgresql://", 1))
        transaction = lock.transaction()
        await transaction.start()
        await lock.execute("SELECT 1 FROM cases WHERE id = $1 FOR UPDATE", case_id)
        async with httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http:
            in_flight = asyncio.ensure_future(
                http.post("/graphql", json=update, headers={"Authorization": f"Bearer {world.token('alice')}"})
            )
            async with asyncio.timeout(WAIT):
                while not await lock.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                ):
                    await asyncio.sleep(0.05)
            # when: PostgreSQL stops under it
            private_postgres.stop("immediate")
            answer = await in_flight
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            await lock.close(timeout=1)
    finally:
        server.stop()
    # then: a 503 to retry, with the code that says so, not a masked internal error
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["Retry-After"]) > 0
    assert [error["extensions"]["code"] for error in answer.json()["errors"]] == [SERVICE_UNAVAILABLE]


async def connection_init(url: str, protocol: str, token: str) -> tuple[list[dict[str, Any]], int | None, str]:
    """Open a socket, send connection_init: the messages received until it closed, its code and reason.

    Acknowledged connections are closed by the client (code 1000).
    """
    messages: list[dict[str, Any]] = []
    async with connect(url, subprotocols=[Subprotocol(protocol)], close_timeout=3) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        try:
            async with asyncio.timeout(WAIT):
                while True:
                    message = json.loads(await ws.recv())
                    messages.append(message)
                    if message["type"] == "connection_ack":
                        await ws.close()
        except ConnectionClosed:
            pass
        return messages, ws.close_code, ws.close_reason or ""


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_websocket_connection_init_during_an_outage_is_told_to_try_again_later(
    private_postgres: PrivatePostgres, tmp_path: Path, protocol: str
) -> None:
    # given: a server whose sockets connect, and then its database goes away
    server = start_server(f"ws-outage-{protocol}", server_env(database_url=private_postgres.url), tmp_path)
    token = mint_token("alice", *PEOPLE["alice"])
    try:
        messages, _, _ = await connection_init(server.ws_url, protocol, token)
        assert [message["type"] for message in messages] == ["connection_ack"]
        private_postgres.stop()
        # when
        messages, code, reason = await connection_init(server.ws_url, protocol, token)
        # then: "try again later", with a reason (and the legacy protocol's connection_error says
        # the code and the wait), not an internal error; the outage is logged once, no traceback
        assert code == 1013, (code, reason, messages)
        assert "try again" in reason
        if protocol == LEGACY_WS:
            [error] = messages
            assert error["type"] == "connection_error"
            assert error["payload"]["extensions"] == {"code": SERVICE_UNAVAILABLE, "retryAfter": 5}
        else:
            assert messages == []
        assert len(outage_lines(server, "casegraph.outage", "WARNING")) == 1
        assert not [r for r in log_records(server) if r.get("level") == "ERROR"], [
            r for r in log_records(server) if r.get("level") == "ERROR"
        ]
        # and once the database is back the same connection_init is acknowledged
        private_postgres.start()
        async with asyncio.timeout(WAIT):
            while code != 1000:
                await asyncio.sleep(0.1)
                messages, code, _ = await connection_init(server.ws_url, protocol, token)
        assert [message["type"] for message in messages] == ["connection_ack"]
    finally:
        server.stop()
