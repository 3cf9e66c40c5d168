"""The setup gate holds both protocols: a connection_init or an operation waits for a place.

At most ``SETUP_CONCURRENCY`` connections or operations of a process are set up at once
(``casegraph/fanout/setup_gate.py``); the legacy ``graphql-ws`` handler skipped the gate, so a
crowd reconnecting on it all authenticated and validated at once. The server runs in this
test's event loop (uvicorn, real sockets) so the test can take every place itself; it checks
order, not time: with no place free the server answers nothing until a place is released.

On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from tortoise.context import TortoiseContext
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from casegraph.app import create_app
from casegraph.auth import TokenVerifier
from casegraph.events.live import LiveEvents
from casegraph.fanout.setup_gate import SETUP_CONCURRENCY, SetupGate, setup_gate
from casegraph.runtime import Runtime
from casegraph.settings import Settings
from tests.helpers import World
from tests.live.support import LEGACY_WS, TRANSPORT_WS, free_port

TIMEOUT = 10.0


@pytest.fixture
async def ws_url(db: TortoiseContext, settings: Settings) -> AsyncIterator[str]:
    """A real server on a loopback port, in this event loop, on the test's database."""
    runtime = Runtime(settings=settings, verifier=TokenVerifier(settings))
    live = LiveEvents("memory://", poll_interval=0.05)
    await live.start()
    runtime.live = live
    runtime.publisher = live
    port = free_port()
    app = create_app(settings, manage_resources=False, runtime=runtime)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(TIMEOUT):
            while not server.started:
                await asyncio.sleep(0.01)
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await serving
        await live.stop()


@contextlib.asynccontextmanager
async def every_place_taken() -> AsyncIterator[SetupGate]:
    """All places at the server's gate held by the test, until the block ends."""
    gate = setup_gate()
    for _ in range(SETUP_CONCURRENCY):
        await gate.enter()
    try:
        yield gate
    finally:
        for _ in range(SETUP_CONCURRENCY):
            gate.leave()


async def answer_or_waiter(ws: ClientConnection, gate: SetupGate, waiting: int) -> dict[str, Any] | None:
    """The server's next message if it answers before anything waits at the gate; else None."""
    answer = asyncio.ensure_future(ws.recv())
    try:
        async with asyncio.timeout(TIMEOUT):
            while gate.waiting <= waiting and not answer.done():
                await asyncio.sleep(0.005)
        if answer.done():
            message: dict[str, Any] = json.loads(answer.result())
            return message
        return None
    finally:
        answer.cancel()  # recv may be cancelled without losing a message
        with contextlib.suppress(asyncio.CancelledError):
            await answer


async def receive(ws: ClientConnection, *skipping: str) -> dict[str, Any]:
    async with asyncio.timeout(TIMEOUT):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if message.get("type") not in skipping:
                return message


@pytest.mark.parametrize("protocol", [LEGACY_WS, TRANSPORT_WS])
async def test_a_connection_init_waits_for_a_place_at_the_setup_gate(
    ws_url: str, world: World, settings: Settings, protocol: str
) -> None:
    async with connect(ws_url, subprotocols=[Subprotocol(protocol)]) as ws:
        # given: no place free among the set-ups
        async with every_place_taken() as gate:
            waiting = gate.waiting
            # when
            await ws.send(
                json.dumps(
                    {
                        "type": "connection_init",
                        "payload": {"Authorization": f"Bearer {world.token(settings, 'agent')}"},
                    }
                )
            )
            # then: it waits at the gate instead of being authenticated and acknowledged
            assert await answer_or_waiter(ws, gate, waiting) is None
            assert gate.waiting == waiting + 1
        # and once places free up it is served
        assert (await receive(ws, "ka"))["type"] == "connection_ack"


@pytest.mark.parametrize("protocol", [LEGACY_WS, TRANSPORT_WS])
async def test_an_operation_waits_for_a_place_at_the_setup_gate(
    ws_url: str, world: World, settings: Settings, protocol: str
) -> None:
    async with connect(ws_url, subprotocols=[Subprotocol(protocol)]) as ws:
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {world.token(settings, 'agent')}"}}
            )
        )
        assert (await receive(ws, "ka"))["type"] == "connection_ack"
        # given: no place free among the set-ups
        async with every_place_taken() as gate:
            waiting = gate.waiting
            # when: a query
            kind = "start" if protocol == LEGACY_WS else "subscribe"
            await ws.send(json.dumps({"id": "1", "type": kind, "payload": {"query": "{ me { id } }"}}))
            # then: it waits at the gate instead of being validated and run
            assert await answer_or_waiter(ws, gate, waiting) is None
            assert gate.waiting == waiting + 1
        # and once places free up it is answered
        answer = await receive(ws, "ka", "ping")
        assert answer["type"] in ("data", "next") and answer["payload"]["data"]["me"]["id"] == world.sub("agent")
