"""Rate limits on real servers (``casegraph serve``: uvicorn with websockets-sansio).

- WebSocket handshakes over the per-address limit get HTTP 429 with Retry-After (uvicorn speaks
  the ASGI denial-response extension), and connect again once the window has passed;
- a user over the per-user connection limit is closed with 1013 "Try Again Later" and the wait,
  which a client can tell from 4403 "Forbidden"; the legacy protocol says so in connection_error;
- mutations over WebSocket share the count of those over HTTP;
- a user holding as many open connections as allowed (CASEGRAPH_RATE_SOCKETS_PER_USER) is
  refused one more with 1013 and a reason saying so, until one of them closes;
- two processes on one PostgreSQL database (database store) or one Redis (Redis store) keep one
  count between them, and one tally of each user's open connections.

Memory and database windows are aligned to the clock: a test that must fit a burst into one
window first waits for a fresh window if the current one is about to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from casegraph.domain.enums import Role
from casegraph.rate_limits import RATE_LIMITED
from tests.live.support import (
    LEGACY_WS,
    ServerProcess,
    SubscriptionFailed,
    WsClosed,
    mint_token,
    postgres_database,
    require_redis,
    run_cli,
    server_env,
    start_server,
    ws_connect,
)

TRY_AGAIN_LATER = 1013
# Every limit is set explicitly: the defaults must not interfere with the one under test.
ALL_OFF = {
    "rate_limits": "on",
    "rate_mutations_per_user": "off",
    "rate_mutations_per_ip": "off",
    "rate_connections_per_user": "off",
    "rate_connections_per_ip": "off",
    "rate_sockets_per_user": "off",
}


def update_missing_case() -> str:
    """A mutation anyone may send with no data set up: it runs and answers NOT_FOUND in its payload."""
    return f'mutation {{ updateCase(input: {{caseId: "{uuid.uuid4()}", description: "x"}}) {{ errors {{ code }} }} }}'


def person() -> str:
    """A user of its own per test run: Redis is shared with other runs, and its counts outlive a test."""
    return f"rl-{uuid.uuid4().hex[:10]}"


def token(sub: str) -> str:
    return mint_token(sub, Role.CONSTITUENT)


async def fresh_window(seconds: int, needed: float) -> None:
    """Wait for the next aligned window unless ``needed`` seconds are left in this one."""
    remaining = seconds - time.time() % seconds
    if remaining < needed:
        await asyncio.sleep(remaining + 0.05)


async def mutate(base_url: str, sub: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, timeout=15.0) as client:
        return await client.post(
            "/graphql", json={"query": update_missing_case()}, headers={"Authorization": f"Bearer {token(sub)}"}
        )


def ran(response: httpx.Response) -> bool:
    return response.status_code == 200 and response.json()["data"]["updateCase"]["errors"][0]["code"] == "NOT_FOUND"


def rate_limited(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["retry-after"])
    assert response.json()["errors"][0]["extensions"] == {"code": RATE_LIMITED, "retryAfter": retry_after}
    return retry_after


def retry_after_in(reason: str) -> int:
    prefix, _, rest = reason.partition("retry after ")
    assert prefix == "Too many connections: " and rest.endswith(" s."), reason
    return int(rest.removesuffix(" s."))


def sqlite_server(name: str, workdir: Path, **limits: str) -> ServerProcess:
    env = server_env(database_url=f"sqlite://{workdir / 'casegraph.sqlite3'}", **{**ALL_OFF, **limits})
    return start_server(name, env, workdir, wait_ready=True)


# -- WebSocket connections per address ------------------------------------------------------------


@pytest.fixture(scope="module")
def address_limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = sqlite_server("connections-per-ip", tmp_path_factory.mktemp("rate-ip"), rate_connections_per_ip="3/3")
    yield server
    server.stop()


async def test_handshakes_over_the_address_limit_get_429_with_retry_after_and_recover(
    address_limited: ServerProcess,
) -> None:
    url, sub = address_limited.ws_url, person()
    await fresh_window(3, needed=2.5)
    async with contextlib.AsyncExitStack() as open_connections:
        # a forged X-Forwarded-For changes nothing: no proxy is trusted, the peer address counts
        for number in range(3):
            forged = {"X-Forwarded-For": f"192.0.2.{number}"}
            await open_connections.enter_async_context(ws_connect(url, token(sub), headers=forged))
        with pytest.raises(InvalidStatus) as refused:
            async with ws_connect(url, token(person()), headers={"X-Forwarded-For": "192.0.2.99"}):
                pass

    response = refused.value.response
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 3
    [error] = json.loads(response.body)["errors"]
    assert error["extensions"] == {"code": RATE_LIMITED, "retryAfter": retry_after}

    await asyncio.sleep(retry_after)
    async with ws_connect(url, token(sub)) as connection:
        assert connection.ws.close_code is None


# -- WebSocket connections per user, mutations over WebSocket -------------------------------------


@pytest.fixture(scope="module")
def user_limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = sqlite_server(
        "connections-per-user",
        tmp_path_factory.mktemp("rate-user"),
        rate_connections_per_user="2/3",
        rate_mutations_per_user="3/3600",
    )
    yield server
    server.stop()


async def legacy_refusal(url: str, sub: str) -> tuple[dict[str, Any], int | None, str]:
    """connection_init over graphql-ws: the first message, then the close code and reason."""
    async with connect(url, subprotocols=[Subprotocol(LEGACY_WS)], open_timeout=10, close_timeout=3) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token(sub)}"}}))
        async with asyncio.timeout(10):
            message = json.loads(await ws.recv())
            await ws.wait_closed()
        return message, ws.close_code, ws.close_reason or ""


async def test_a_user_over_the_connection_limit_is_told_when_to_retry_not_forbidden(
    user_limited: ServerProcess,
) -> None:
    url, sub = user_limited.ws_url, person()
    await fresh_window(3, needed=2.5)
    async with ws_connect(url, token(sub)), ws_connect(url, token(sub), protocol=LEGACY_WS):
        with pytest.raises(WsClosed) as limited:
            async with ws_connect(url, token(sub)):
                pass
        message, legacy_code, legacy_reason = await legacy_refusal(url, sub)
        # someone else is not held by this user's limit
        async with ws_connect(url, token(person())):
            pass
    with pytest.raises(WsClosed) as forbidden:
        async with ws_connect(url, "not-a-token"):
            pass

    assert limited.value.code == TRY_AGAIN_LATER and forbidden.value.code == 4403
    retry_after = retry_after_in(limited.value.reason)
    assert 1 <= retry_after <= 3
    assert message["type"] == "connection_error"
    assert message["payload"]["extensions"]["code"] == RATE_LIMITED
    assert legacy_code == TRY_AGAIN_LATER and retry_after_in(legacy_reason) >= 1

    await asyncio.sleep(max(retry_after, message["payload"]["extensions"]["retryAfter"]))
    async with ws_connect(url, token(sub)) as connection:
        assert connection.ws.close_code is None


# -- open WebSocket connections per user ----------------------------------------------------------

OPEN_LIMIT_REASON = "Too many open connections: at most 2 per user."


@pytest.fixture(scope="module")
def sockets_limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = sqlite_server("sockets-per-user", tmp_path_factory.mktemp("rate-sockets"), rate_sockets_per_user="2")
    yield server
    server.stop()


async def until_accepted(url: str, sub: str) -> None:
    """Connect until the server has taken back a closed connection's place (the close is async)."""
    async with asyncio.timeout(10):
        while True:
            try:
                async with ws_connect(url, token(sub)) as connection:
                    assert connection.ws.close_code is None
                    return
            except WsClosed as closed:
                assert (closed.code, closed.reason) == (TRY_AGAIN_LATER, OPEN_LIMIT_REASON)
                await asyncio.sleep(0.05)


async def test_a_user_holding_as_many_open_connections_as_allowed_is_refused_one_more(
    sockets_limited: ServerProcess,
) -> None:
    url, sub = sockets_limited.ws_url, person()
    async with contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(ws_connect(url, token(sub)))
        await stack.enter_async_context(ws_connect(url, token(sub), protocol=LEGACY_WS))
        # when a third opens, on either protocol
        with pytest.raises(WsClosed) as refused:
            async with ws_connect(url, token(sub)):
                pass
        message, legacy_code, legacy_reason = await legacy_refusal(url, sub)
        # someone else is not held by this user's connections
        async with ws_connect(url, token(person())):
            pass
        # then: refused with the reason; the open ones still work
        assert (refused.value.code, refused.value.reason) == (TRY_AGAIN_LATER, OPEN_LIMIT_REASON)
        assert (legacy_code, legacy_reason) == (TRY_AGAIN_LATER, OPEN_LIMIT_REASON)
        assert message["type"] == "connection_error"
        assert message["payload"] == {
            "message": OPEN_LIMIT_REASON,
            "extensions": {"code": RATE_LIMITED, "openConnections": 2},
        }
        assert (await (await first.subscribe("query { me { id } }")).next())["id"] == sub
        # and once one closes, its place is free again
        await first.ws.close()
        await until_accepted(url, sub)


async def test_mutations_over_websocket_count_with_those_over_http(user_limited: ServerProcess) -> None:
    sub = person()
    await fresh_window(3600, needed=30)
    assert ran(await mutate(user_limited.http_url, sub))
    assert ran(await mutate(user_limited.http_url, sub))
    async with ws_connect(user_limited.ws_url, token(sub)) as connection:
        third = await (await connection.subscribe(update_missing_case())).next()
        assert third["errors"][0]["code"] == "NOT_FOUND"
        with pytest.raises(SubscriptionFailed) as refused:
            await (await connection.subscribe(update_missing_case())).next()
    [error] = refused.value.message["payload"]["errors"]
    assert error["extensions"]["code"] == RATE_LIMITED
    rate_limited(await mutate(user_limited.http_url, sub))


# -- one count across processes -------------------------------------------------------------------


@dataclass
class Pair:
    a: ServerProcess
    b: ServerProcess
    store: str


@pytest.fixture(scope="module", params=["database", "redis"])
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """Two processes on one PostgreSQL database; the store follows the deployment (no override)."""
    store = str(request.param)
    redis_url = require_redis() if store == "redis" else None
    workdir = tmp_path_factory.mktemp(f"rate-{store}")
    with postgres_database() as database_url:
        env = server_env(
            database_url=database_url,
            broadcast_url=redis_url or "memory://",
            **{**ALL_OFF, "rate_mutations_per_user": "4/3", "rate_sockets_per_user": "2"},
        )
        run_cli(["migrate"], env, workdir)
        with contextlib.ExitStack() as stack, ThreadPoolExecutor(max_workers=2) as pool:
            starting = [
                pool.submit(start_server, f"rate-{store}-{name}", env, workdir, wait_ready=True) for name in "AB"
            ]
            for future in starting:
                with contextlib.suppress(Exception):
                    stack.callback(future.result().stop)
            a, b = (future.result() for future in starting)
            yield Pair(a=a, b=b, store=store)


async def test_processes_share_one_tally_of_a_users_open_connections(pair: Pair) -> None:
    sub = person()
    async with contextlib.AsyncExitStack() as stack:
        on_a = await stack.enter_async_context(ws_connect(pair.a.ws_url, token(sub)))
        await stack.enter_async_context(ws_connect(pair.b.ws_url, token(sub), protocol=LEGACY_WS))
        for server in (pair.a, pair.b):
            with pytest.raises(WsClosed) as refused:
                async with ws_connect(server.ws_url, token(sub)):
                    pass
            assert (refused.value.code, refused.value.reason) == (TRY_AGAIN_LATER, OPEN_LIMIT_REASON)
        # a connection closed on one process frees a place on the other
        await on_a.ws.close()
        await until_accepted(pair.b.ws_url, sub)


async def test_processes_share_one_count_and_its_window(pair: Pair) -> None:
    sub = person()
    # Redis windows start with their first hit; database windows are aligned to the clock
    await fresh_window(3, needed=2.5)
    for server in (pair.a, pair.b, pair.a, pair.b):
        assert ran(await mutate(server.http_url, sub))

    retry_after = rate_limited(await mutate(pair.a.http_url, sub))
    rate_limited(await mutate(pair.b.http_url, sub))
    assert ran(await mutate(pair.b.http_url, person()))

    await asyncio.sleep(retry_after)
    assert ran(await mutate(pair.b.http_url, sub))
