"""The Redis server restarts in the middle of a stream of mutations; nothing is lost.

issue 3: "If the broadcast server drops, subscribers must recover by themselves: reconnect with
backoff, then catch up from the event log, so nothing is lost; /readyz reports the outage
meanwhile." Processes A and B share PostgreSQL and a private redis-server that this test kills
(SIGKILL, as a crash) and restarts on the same port while A keeps changing cases and subscribers
on B keep watching.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from casegraph.events.channel import WakeChannel
from casegraph.events.hub import POLL_INTERVAL
from tests.live.support import (
    GraphQLHttp,
    LiveSubscription,
    LiveWorld,
    RedisServer,
    ServerProcess,
    assert_strictly_increasing,
    case_events_query,
    create_case,
    free_port,
    postgres_database,
    require_redis_server_binary,
    run_cli,
    run_sync,
    sequences,
    server_env,
    set_up_world,
    start_server,
    update_description,
    wait_for_status_async,
    ws_connect,
)

OUTAGE_TIMEOUT = 20.0


@dataclass
class Deployment:
    redis: RedisServer
    a: ServerProcess
    b: ServerProcess
    world: LiveWorld


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp_path = tmp_path_factory.mktemp("live-outage")
    redis = RedisServer(require_redis_server_binary(), tmp_path / "redis")
    redis.start()
    try:
        with postgres_database() as database_url:
            env = server_env(database_url=database_url, broadcast_url=redis.url)
            run_cli(["migrate"], env, tmp_path)
            with contextlib.ExitStack() as stack, ThreadPoolExecutor(max_workers=2) as pool:
                starting = [pool.submit(start_server, f"outage-{n}", env, tmp_path, wait_ready=True) for n in "AB"]
                for future in starting:
                    with contextlib.suppress(Exception):
                        stack.callback(future.result().stop)
                a, b = (future.result() for future in starting)
                world = run_sync(lambda: set_up_world(a.http_url))
                yield Deployment(redis=redis, a=a, b=b, world=world)
    finally:
        redis.stop()


async def test_every_subscriber_gets_every_event_exactly_once_in_order_across_a_redis_restart(
    deployment: Deployment,
) -> None:
    a, b, world, redis = deployment.a, deployment.b, deployment.world, deployment.redis
    async with GraphQLHttp(a.http_url) as gql, contextlib.AsyncExitStack() as stack:
        # given: two cases (alice's and bob's) and six live subscribers on B with different feeds
        alice_case, alice_created = await create_case(gql, world, "alice", "Streamed pothole")
        bob_case, bob_created = await create_case(gql, world, "bob", "Bob's streamed pothole")
        after = str(int(alice_created) - 1)
        feeds: dict[str, tuple[str, str, dict[str, str | None]]] = {
            "alice, her case": ("alice", case_events_query(), {"caseId": alice_case, "after": after}),
            "alice, her case again": ("alice", case_events_query(), {"caseId": alice_case, "after": after}),
            "alice, everything": ("alice", case_events_query(), {"after": after}),
            "bob, everything": ("bob", case_events_query(), {"after": after}),
            "dana, everything": ("dana", case_events_query(), {"after": after}),
            "eli, ROADS queue": (
                "eli",
                'subscription Q($after: ID) { queueEvents(groupCode: "ROADS", after: $after) { id sequence case { id } } }',
                {"after": after},
            ),
        }
        watchers: dict[str, LiveSubscription] = {}
        for name, (who, query, variables) in feeds.items():
            connection = await stack.enter_async_context(ws_connect(b.ws_url, world.token(who)))
            watchers[name] = await connection.subscribe(query, variables)
        expected_start = {
            "alice, her case": [int(alice_created)],
            "alice, her case again": [int(alice_created)],
            "alice, everything": [int(alice_created)],
            "bob, everything": [int(bob_created)],
            "dana, everything": [int(alice_created), int(bob_created)],
            "eli, ROADS queue": [int(alice_created), int(bob_created)],
        }
        for name, watcher in watchers.items():
            assert sequences(await watcher.take(len(expected_start[name]))) == expected_start[name], name

        # when: A changes both cases every 50 ms while Redis is killed and restarted mid-stream
        made: dict[str, list[int]] = {alice_case: [], bob_case: []}
        stop_stream = asyncio.Event()

        async def stream() -> None:
            n = 0
            async with asyncio.timeout(OUTAGE_TIMEOUT * 3):
                while not stop_stream.is_set():
                    for who, case_id in (("alice", alice_case), ("bob", bob_case)):
                        event = await update_description(gql, world, who, case_id, f"stream {n}")
                        made[case_id].append(int(event["sequence"]))
                    n += 1
                    await asyncio.sleep(0.05)

        streaming = asyncio.create_task(stream())
        try:
            await asyncio.sleep(0.5)
            redis.kill()
            killed_with = sum(len(v) for v in made.values())
            down_after = await wait_for_status_async(b, "/readyz", 503, timeout=OUTAGE_TIMEOUT)
            await asyncio.sleep(1.0)  # keep mutating while the broadcast server is gone
            during_outage = sum(len(v) for v in made.values()) - killed_with
            await asyncio.to_thread(redis.start)
            back_after = await wait_for_status_async(b, "/readyz", 200, timeout=OUTAGE_TIMEOUT)
            await wait_for_status_async(a, "/readyz", 200, timeout=OUTAGE_TIMEOUT)
            await asyncio.sleep(0.5)
        finally:
            stop_stream.set()
            await streaming
        assert killed_with > 0 and during_outage > 0, (killed_with, during_outage)
        assert down_after < 5.0 and back_after < 10.0, (down_after, back_after)

        # then: every subscriber ends with every event it may see exactly once, in order
        alice_events, bob_events = made[alice_case], made[bob_case]
        expected = {
            "alice, her case": alice_events,
            "alice, her case again": alice_events,
            "alice, everything": alice_events,
            "bob, everything": bob_events,
            "dana, everything": sorted(alice_events + bob_events),
            "eli, ROADS queue": sorted(alice_events + bob_events),
        }
        for name, watcher in watchers.items():
            got = await watcher.take(len(expected[name]), timeout=POLL_INTERVAL * 3 + 10)
            assert sequences(got) == expected[name], name
            assert_strictly_increasing(sequences(got))
        for watcher in watchers.values():
            await watcher.assert_silent(0.2)

        # and: the broadcast path itself is back (not just the log poll): one at a time, each
        # change reaches B in a fraction of the poll interval
        watcher = watchers["alice, her case"]
        latencies = []
        for n in range(4):
            started = time.monotonic()
            event = await update_description(gql, world, "alice", alice_case, f"after the restart {n}")
            assert sequences(await watcher.take(1, timeout=POLL_INTERVAL * 3 + 5)) == [int(event["sequence"])]
            latencies.append(time.monotonic() - started)
        assert statistics.median(latencies) < POLL_INTERVAL * 0.4, latencies


async def test_readyz_reports_the_broadcast_outage_and_the_recovery(deployment: Deployment) -> None:
    b, redis = deployment.b, deployment.redis
    await wait_for_status_async(b, "/readyz", 200, timeout=5)
    redis.kill()
    await wait_for_status_async(b, "/readyz", 503, timeout=OUTAGE_TIMEOUT)
    async with GraphQLHttp(b.http_url) as http:
        response = await http.client.get("/readyz")
        body = response.json()
        # liveness is not readiness: the process itself is fine
        assert (await http.client.get("/healthz")).status_code == 200
    assert body["ready"] is False
    assert body["checks"]["database"] == "ok" and body["checks"]["broadcast"] != "ok", body
    await asyncio.to_thread(redis.start)
    await wait_for_status_async(b, "/readyz", 200, timeout=OUTAGE_TIMEOUT)


async def test_failed_reconnect_attempts_leave_no_redis_listener_tasks_behind() -> None:
    """While the broadcast server is away, each reconnect attempt must clean up after itself.

    broadcaster's RedisBackend.connect starts its listener task *before* connecting; an attempt
    that fails to connect must still cancel it (and close the client), or a long outage leaves
    one pending task and one Redis client behind per attempt.
    """
    port = free_port()  # nothing listens here: every attempt is refused
    channel = WakeChannel(f"redis://127.0.0.1:{port}/0", on_message=lambda _: None, on_reconnect=lambda: None)
    gc.disable()  # leaked tasks sit in unreachable cycles: keep them countable
    await channel.start(wait=0.1)
    try:
        async with asyncio.timeout(10):
            while channel.reconnects < 3:
                await asyncio.sleep(0.05)
        assert not channel.healthy
        leftovers = [task for task in asyncio.all_tasks() if "_pubsub_listener" in repr(task.get_coro())]
        assert leftovers == [], (
            f"{len(leftovers)} listener tasks left behind by failed attempts to connect ({channel.reconnects} retries)"
        )
    finally:
        await channel.stop()
        await _clean_up_after_leaked_listeners()
        gc.enable()


async def _clean_up_after_leaked_listeners() -> None:
    """Contain a failure above: cancel stray listeners and close their clients *now*, so their
    garbage collection cannot raise ResourceWarnings (errors here) in some later test."""
    for task in [t for t in asyncio.all_tasks() if "_pubsub_listener" in repr(t.get_coro())]:
        backend = task.get_coro().cr_frame.f_locals.get("self")  # type: ignore[union-attr]
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if backend is not None:
            with contextlib.suppress(Exception):
                await backend._pubsub.aclose()
            with contextlib.suppress(Exception):
                await backend._conn.aclose()
    gc.collect()
