"""A client's retry after a crash or a database blip is answered within seconds (issue 14, section 7).

The first request claimed its idempotency key, then its server was SIGKILLed, or PostgreSQL
restarted, while the change waited for a row lock this test holds. The claim is left with
no response. A repeat with the same key used to wait until the claim counted as abandoned (30 s
after it was made); now the claim is a lease its holder renews, so the repeat takes it over once
the lease has run out, runs in its place, and the change is applied once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Final

import asyncpg
import httpx
import pytest

from casegraph.services.idempotency import LEASE
from tests.live.private_postgres import PrivatePostgres
from tests.live.support import (
    GraphQLHttp,
    LiveWorld,
    ServerProcess,
    create_case,
    postgres_database,
    server_env,
    set_up_world,
    start_server,
)

pytestmark = pytest.mark.postgres

UPDATE: Final = (
    "mutation M($input: UpdateCaseInput!) { updateCase(input: $input) "
    "{ case { id version } event { sequence } errors { code } } }"
)
# Far longer than a lease (and than a restart), far shorter than the 30 s a claim used to hold.
RETRY_BOUND: Final = LEASE.total_seconds() * 2.5
CLAIM_TIMEOUT: Final = 15.0


def asyncpg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


@pytest.fixture
def database_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@contextlib.asynccontextmanager
async def case_row_locked(database_url: str, case_id: str) -> AsyncIterator[asyncpg.Connection]:
    """The case's row locked by a transaction of ours: a change to it waits until we let go."""
    connection = await asyncpg.connect(asyncpg_url(database_url))
    transaction = connection.transaction()
    await transaction.start()
    try:
        await connection.execute("SELECT 1 FROM cases WHERE id = $1 FOR UPDATE", case_id)
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()


async def wait_for_open_claim(connection: asyncpg.Connection, key: str) -> None:
    async with asyncio.timeout(CLAIM_TIMEOUT):
        while not await connection.fetchval(
            "SELECT count(*) FROM idempotency_records WHERE key = $1 AND response IS NULL", key
        ):
            await asyncio.sleep(0.05)


async def events_of(database_url: str, case_id: str) -> int:
    connection = await asyncpg.connect(asyncpg_url(database_url))
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM case_events WHERE case_id = $1", case_id)
        return count
    finally:
        await connection.close()


async def send(server: ServerProcess, world: LiveWorld, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=60) as http:
        response = await http.post(
            "/graphql",
            json={"query": UPDATE, "variables": variables},
            headers={"Authorization": f"Bearer {world.token('alice')}"},
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert not body.get("errors"), body
    payload: dict[str, Any] = body["data"]["updateCase"]
    return payload


async def test_a_retry_after_the_server_was_killed_mid_request_is_answered_within_seconds(
    database_url: str, tmp_path: Path
) -> None:
    # given: a case, and a change to it with an idempotency key, held up mid-request
    env = server_env(database_url=database_url)
    first = start_server("doomed", env, tmp_path)
    try:
        world = await set_up_world(first.http_url)
        async with GraphQLHttp(first.http_url) as gql:
            case_id, _ = await create_case(gql, world, "alice", "Held up")
        before = await events_of(database_url, case_id)
        variables = {"input": {"caseId": case_id, "description": "Deeper now.", "idempotencyKey": "k-crash"}}
        async with case_row_locked(database_url, case_id) as lock:
            in_flight = asyncio.ensure_future(send(first, world, variables))
            await wait_for_open_claim(lock, "k-crash")
            # when: the server dies with the claim open
            first.process.kill()
            first.process.wait(10)
        with contextlib.suppress(Exception):
            await in_flight
    finally:
        with contextlib.suppress(AssertionError):
            first.stop()

    # then: restarted, the same request is answered within a few leases, and applied once
    second = start_server("restarted", env, tmp_path)
    try:
        started = time.monotonic()
        retried = await send(second, world, variables)
        waited = time.monotonic() - started
        again = await send(second, world, variables)
    finally:
        second.stop()
    assert retried["errors"] == [] and retried["event"] is not None
    assert waited < RETRY_BOUND, waited
    assert again == retried
    assert await events_of(database_url, case_id) == before + 1


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    postgres = PrivatePostgres()
    postgres.start()
    try:
        yield postgres
    finally:
        postgres.remove()


async def test_a_retry_after_a_database_restart_mid_request_is_answered_within_seconds(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    # given: a change with an idempotency key, held up mid-request
    database_url = private_postgres.url
    server = start_server("blip", server_env(database_url=database_url), tmp_path)
    try:
        world = await set_up_world(server.http_url)
        async with GraphQLHttp(server.http_url) as gql:
            case_id, _ = await create_case(gql, world, "alice", "Held up")
        before = await events_of(database_url, case_id)
        variables = {"input": {"caseId": case_id, "description": "Deeper now.", "idempotencyKey": "k-blip"}}
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            async with case_row_locked(database_url, case_id) as lock:
                in_flight = asyncio.ensure_future(send(server, world, variables))
                await wait_for_open_claim(lock, "k-blip")
                # when: PostgreSQL restarts under it: the request fails while the database is
                # away, its clean-up with it, and then the database is back
                private_postgres.stop()
        with contextlib.suppress(Exception):
            await in_flight
        private_postgres.start()

        # then: the client's retry (again while a refusal says the database is away) is
        # answered within a few leases, and the change is applied once
        started = time.monotonic()
        retried: dict[str, Any] | None = None
        while retried is None and time.monotonic() - started < RETRY_BOUND:
            with contextlib.suppress(AssertionError, httpx.HTTPError):
                retried = await send(server, world, variables)
        waited = time.monotonic() - started
    finally:
        server.stop()
    assert retried is not None and retried["errors"] == [], (retried, server.log_tail())
    assert waited < RETRY_BOUND, waited
    assert await events_of(database_url, case_id) == before + 1
