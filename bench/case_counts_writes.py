"""What the maintained case counts (migration 0014) cost writers on PostgreSQL, and whether they queue.

    python -m bench.case_counts_writes [--cases 2000] [--seconds 5] [--connections 32]

On a fresh, migrated database loaded with the benchmark's data set, ``--connections`` asyncpg
connections each update cases of their own (so cases' row locks never collide), all of one
assignment group (so every writer changes the same counter keys), in one transaction each:

- ``key change``: status and group change, version and update time move (the triggers write);
- ``other columns``: only version and update time move (the update trigger nets to zero).

Each workload runs with the counting triggers disabled, enabled as migrated (a counter row per
server process), and enabled with a single counter row per key (the design the shards avoid).
While it runs a monitor samples ``pg_stat_activity`` for writers waiting on a lock. Prints
transactions per second, p50 and p99 latency, and the most and mean writers seen waiting.
Needs ``CASEGRAPH_TEST_POSTGRES_URL`` (or ``--database-url``): an administrator's URL.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

import asyncpg

from bench.dataset import DatasetSpec, load_dataset
from casegraph.db import migrate

migration = importlib.import_module("models.migrations.0014_case_counts")

STATUSES: Final = ("NEW", "OPEN", "WORK_IN_PROGRESS", "AWAITING_INFO")
# Writers waiting for another transaction's row lock (until it commits); not for a file extension.
WAITING: Final = (
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
    "AND wait_event IN ('transactionid', 'tuple') AND pid = ANY($1::int[])"
)


@dataclass(frozen=True)
class Result:
    workload: str
    mode: str
    transactions: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_waiting: int
    mean_waiting: float
    deadlocks: int

    def line(self) -> str:
        return (
            f"{self.workload:14} {self.mode:22} {self.transactions / self.seconds:8.0f} tx/s  "
            f"p50 {self.p50_ms:6.2f} ms  p99 {self.p99_ms:7.2f} ms  "
            f"waiting on a lock: max {self.max_waiting:2d}, mean {self.mean_waiting:5.2f}  "
            f"deadlocks {self.deadlocks}"
        )


async def set_mode(connection: asyncpg.Connection, mode: str) -> None:
    """Triggers off, as migrated, or rewritten to count every key in one row (shard 0); the
    migration's statements re-create the triggers and recount from the rows each time."""
    for sql in migration.POSTGRES_UP:
        if mode == "one row per key":
            sql = sql.replace("pg_backend_pid()", "0")
        await connection.execute(sql)
    if mode == "triggers off":
        for name in migration.POSTGRES_TRIGGERS:
            await connection.execute(f"ALTER TABLE cases DISABLE TRIGGER {name}")


async def run(
    connections: list[asyncpg.Connection],
    monitor: asyncpg.Connection,
    cases: list[list[str]],
    seconds: float,
    statement: Callable[[asyncpg.Connection, str, random.Random], Awaitable[object]],
) -> tuple[int, list[float], list[int], int]:
    latencies: list[float] = []
    waiting: list[int] = []
    deadlocks = 0
    stop = time.perf_counter() + seconds
    pids = [connection.get_server_pid() for connection in connections]

    async def write(index: int, connection: asyncpg.Connection) -> None:
        nonlocal deadlocks
        rng = random.Random(index)
        mine = cases[index]
        while time.perf_counter() < stop:
            started = time.perf_counter()
            try:
                async with connection.transaction():
                    await statement(connection, rng.choice(mine), rng)
            except asyncpg.DeadlockDetectedError:
                deadlocks += 1  # one counter row per key: two key changes lock them in opposite orders
                continue
            latencies.append(time.perf_counter() - started)

    async def watch() -> None:
        while time.perf_counter() < stop:
            waiting.append(await monitor.fetchval(WAITING, pids))
            await asyncio.sleep(0.005)

    await asyncio.gather(watch(), *(write(i, c) for i, c in enumerate(connections)))
    return len(latencies), latencies, waiting, deadlocks


async def main(admin_url: str, case_count: int, seconds: float, writers: int) -> None:
    admin_url = admin_url.replace("postgres://", "postgresql://", 1)
    name = f"casegraph_counts_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    try:
        await migrate(url)
        await load_dataset(url, DatasetSpec(cases=case_count, tasks_per_case=0))
        setup = await asyncpg.connect(url)
        group = await setup.fetchval("SELECT id FROM assignment_groups ORDER BY id LIMIT 1")
        ids = [
            str(r["id"])
            for r in await setup.fetch("SELECT id FROM cases WHERE status <> 'DRAFT' LIMIT $1", writers * 20)
        ]
        await setup.execute(
            "UPDATE cases SET assignment_group_id = $1, deleted_at = NULL WHERE id = ANY($2::uuid[])", group, ids
        )
        per_writer = [ids[i::writers] for i in range(writers)]
        connections = [await asyncpg.connect(url) for _ in range(writers)]
        monitor = await asyncpg.connect(url)

        async def key_change(connection: asyncpg.Connection, case_id: str, rng: random.Random) -> object:
            return await connection.execute(
                "UPDATE cases SET status = $1, assignment_group_id = $2, version = version + 1, updated_at = now() "
                "WHERE id = $3",
                rng.choice(STATUSES),
                group if rng.random() < 0.9 else None,
                case_id,
            )

        async def other_columns(connection: asyncpg.Connection, case_id: str, rng: random.Random) -> object:
            return await connection.execute(
                "UPDATE cases SET version = version + 1, updated_at = now() WHERE id = $1", case_id
            )

        results = []
        for workload, statement in (("key change", key_change), ("other columns", other_columns)):
            for mode in ("triggers off", "counter row per process", "one row per key"):
                await set_mode(setup, mode)
                await run(connections, monitor, per_writer, 1.0, statement)  # warm-up
                count, latencies, waiting, deadlocks = await run(connections, monitor, per_writer, seconds, statement)
                quantiles = statistics.quantiles(latencies, n=100)
                result = Result(
                    workload,
                    mode,
                    count,
                    seconds,
                    quantiles[49] * 1000,
                    quantiles[98] * 1000,
                    max(waiting),
                    statistics.fmean(waiting),
                    deadlocks,
                )
                results.append(result)
                print(result.line(), flush=True)
        await set_mode(setup, "counter row per process")
        for connection in (*connections, monitor, setup):
            await connection.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default=os.environ.get("CASEGRAPH_TEST_POSTGRES_URL"))
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    arguments = parser.parse_args()
    if not arguments.database_url:
        parser.error("--database-url or CASEGRAPH_TEST_POSTGRES_URL is required")
    asyncio.run(main(arguments.database_url, arguments.cases, arguments.seconds, arguments.connections))
