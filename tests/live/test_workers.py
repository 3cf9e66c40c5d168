"""`casegraph serve --workers N`: N processes behind one port, joined by the broadcast channel.

Connections land on whichever worker accepts them, so subscribers and writers spread over the
processes; every subscriber must see every change through the broadcast channel (well inside
the hub's log-poll interval, which would otherwise be what delivered them).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from casegraph.events.hub import POLL_INTERVAL
from tests.live.support import (
    GraphQLHttp,
    LiveSubscription,
    LiveWorld,
    case_events_query,
    create_case,
    free_port,
    postgres_database,
    require_redis,
    run_cli,
    run_sync,
    sequences,
    server_env,
    set_up_world,
    update_description,
    ws_connect,
)

WORKERS = 3
SUBSCRIBERS = 9
CHANGES = 6


@pytest.fixture(scope="module")
def workers_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, LiveWorld]]:
    redis_url = require_redis()
    workdir = tmp_path_factory.mktemp("workers")
    with postgres_database() as database_url:
        env = server_env(database_url=database_url, broadcast_url=redis_url)
        run_cli(["migrate"], env, workdir)
        port = free_port()
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("CASEGRAPH_")}
        full_env.update(env, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
        log = (workdir / "workers.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "casegraph.cli", "serve", "--port", str(port), "--workers", str(WORKERS)],
            env=full_env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                assert process.poll() is None and time.monotonic() < deadline, (workdir / "workers.log").read_text()
                time.sleep(0.2)
            world = run_sync(lambda: set_up_world(base))
            yield base, world
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
                pytest.fail("serve --workers ignored SIGTERM")
            finally:
                log.close()


async def test_changes_reach_every_subscriber_across_worker_processes(workers_server: tuple[str, LiveWorld]) -> None:
    # given: subscribers on separate connections (spread over the workers), already live
    base, world = workers_server
    ws_url = base.replace("http://", "ws://") + "/graphql"
    async with GraphQLHttp(base) as gql:
        case_id, created = await create_case(gql, world, "alice", "Across workers")
    after = str(int(created) - 1)
    async with contextlib.AsyncExitStack() as stack:
        watchers: list[LiveSubscription] = []
        for n in range(SUBSCRIBERS):
            who = "alice" if n % 2 else "dana"
            connection = await stack.enter_async_context(ws_connect(ws_url, world.token(who)))
            watcher = await connection.subscribe(case_events_query("id sequence"), {"caseId": case_id, "after": after})
            assert sequences(await watcher.take(1)) == [int(created)]
            watchers.append(watcher)
        # when: changes, each made on a fresh HTTP connection (so on any worker)
        latencies = []
        for n in range(CHANGES):
            started = time.monotonic()
            async with GraphQLHttp(base) as gql:
                event = await update_description(gql, world, "alice", case_id, f"worker change {n}")
            batches = await asyncio.gather(*(w.take(1, timeout=POLL_INTERVAL * 3 + 5) for w in watchers))
            latencies.append(time.monotonic() - started)
            # then: every subscriber got exactly that event
            assert [sequences(b) for b in batches] == [[int(event["sequence"])]] * SUBSCRIBERS
        assert sorted(latencies)[len(latencies) // 2] < POLL_INTERVAL * 0.4, latencies


def test_several_worker_processes_answer_on_the_one_port(workers_server: tuple[str, LiveWorld]) -> None:
    # given
    base, _ = workers_server
    # when: fresh connections, one request each
    pids = set()
    for _ in range(40):
        with httpx.Client(base_url=base, timeout=5) as client:
            pids.add(client.get("/readyz").json()["pid"])
    # then
    assert len(pids) > 1, pids
