"""The maintained case counts on PostgreSQL: exact under concurrent writers, no lock queue, and a
total that reads ``case_counts`` instead of the visible cases.

Migration 0014 splits each count into a row per server process (``shard`` = backend pid), so
writers of the same group, status and stage never wait on each other's counter row until commit.
The writers here are real connections (asyncpg), outside Tortoise and its pool.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from typing import Any, Final

import asyncpg
import pytest
from tortoise.context import TortoiseContext

from casegraph._compat import tortoise_models
from casegraph.database.case_counts import count_total, fold_case_counts, total_sql
from casegraph.database.sql import POSTGRES, Statement
from casegraph.domain.enums import CaseStage, CaseStatus, Role
from casegraph.domain.relations import Actor
from casegraph.services.visibility import visible_cases
from casegraph.services.visible_counts import count_scope
from models import Case
from tests.helpers import World, insert_case

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("backend", ["postgres"])]

WRITERS: Final = 32
CASES_PER_WRITER: Final = 4
TRANSACTIONS_PER_WRITER: Final = 15
BIG_TABLE: Final = 100_000
REQUESTERS: Final = 1_999
OPEN_STATUSES: Final = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WORK_IN_PROGRESS, CaseStatus.AWAITING_INFO)

PER_KEY_DIFFERENCES: Final = """
WITH counted AS (
    SELECT group_key, status, stage, agency, SUM(n) AS n FROM case_counts
    GROUP BY group_key, status, stage, agency HAVING SUM(n) <> 0
), actual AS (
    SELECT COALESCE(assignment_group_id, 0) AS group_key, status, stage, COALESCE(referred_agency, '') AS agency,
           count(*) AS n
    FROM cases WHERE deleted_at IS NULL AND status <> 'DRAFT' GROUP BY 1, 2, 3, 4
)
SELECT * FROM counted FULL JOIN actual USING (group_key, status, stage, agency)
WHERE counted.n IS DISTINCT FROM actual.n
"""
# Waits for another transaction's row (held until it commits): the queue a shared counter row
# makes. Not the short waits to extend a table's file, which any two inserting writers may share.
WAITING_LOCKS: Final = (
    "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype IN ('transactionid', 'tuple') "
    "AND pid = ANY($1::int[])"
)


@pytest.fixture
async def url(db: TortoiseContext, pg_database_url: str) -> str:
    return pg_database_url.replace("postgres://", "postgresql://", 1)


@pytest.fixture
async def connections(url: str) -> AsyncIterator[list[asyncpg.Connection]]:
    opened = [await asyncpg.connect(url) for _ in range(WRITERS)]
    yield opened
    for connection in opened:
        await connection.close()


async def per_key_differences(connection: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(row) for row in await connection.fetch(PER_KEY_DIFFERENCES)]


async def test_32_concurrent_writers_keep_the_counts_exact_and_never_wait_for_each_other(
    world: World, url: str, connections: list[asyncpg.Connection]
) -> None:
    # given cases of both groups, each writer owning a few (so cases' own row locks never collide)
    cases = [
        str((await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.NEW))).id)
        for _ in range(WRITERS * CASES_PER_WRITER)
    ]
    groups = [*world.group_ids.values(), None]
    pids = [connection.get_server_pid() for connection in connections]
    waits: list[int] = []
    done = asyncio.Event()

    async def write(index: int, connection: asyncpg.Connection) -> None:
        rng = random.Random(index)
        mine = sorted(cases[index::WRITERS])
        for _ in range(TRANSACTIONS_PER_WRITER):
            async with connection.transaction():
                for case_id in mine:  # every counter key of these cases moves, in one transaction
                    await connection.execute(
                        "UPDATE cases SET status = $1, assignment_group_id = $2 WHERE id = $3",
                        rng.choice(OPEN_STATUSES).value,
                        rng.choice(groups),
                        case_id,
                    )
                    await asyncio.sleep(0)  # let the others take their counter rows meanwhile

    async def watch(monitor: asyncpg.Connection) -> None:
        while not done.is_set():
            waits.append(await monitor.fetchval(WAITING_LOCKS, pids))

    monitor = await asyncpg.connect(url)
    try:
        # when 32 connections change statuses and groups at once while a monitor samples pg_locks
        watcher = asyncio.create_task(watch(monitor))
        try:
            await asyncio.gather(*(write(i, c) for i, c in enumerate(connections)))
        finally:
            done.set()
            await watcher
        # then no writer ever waited for a lock, and every count is exact
        assert waits and max(waits) == 0
        assert await per_key_differences(monitor) == []
        admin = Actor(user_id="ada", roles=frozenset({Role.ADMIN}))
        assert await count_total(tortoise_models.connection_for(Case), count_scope(admin)) == len(cases)
        # and when the writers are gone, their shards fold into shard 0 and the sums stay
        for connection in connections:
            await connection.close()
        while await monitor.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", pids):
            await asyncio.sleep(0.01)  # a backend exits a moment after its client hung up
        await fold_case_counts(tortoise_models.connection_for(Case, for_write=True))
        assert (
            await monitor.fetchval("SELECT count(*) FROM case_counts WHERE shard <> 0 AND shard = ANY($1::int[])", pids)
            == 0
        )
        assert await per_key_differences(monitor) == []
    finally:
        await monitor.close()


async def test_a_writer_does_not_wait_for_an_open_transaction_that_counted_the_same_key(
    world: World, connections: list[asyncpg.Connection]
) -> None:
    # given two cases of one group, and a transaction that moved the first to OPEN and stays open
    first, second = (await insert_case(world), await insert_case(world))
    holder, writer, monitor = connections[:3]
    await holder.execute("BEGIN")
    await holder.execute("UPDATE cases SET status = 'OPEN' WHERE id = $1", first.id)
    # when another connection moves the second the same way (the same counter key, both ends)
    moving = asyncio.create_task(writer.execute("UPDATE cases SET status = 'OPEN' WHERE id = $1", second.id))
    # then it finishes while the first transaction is still open: it never queues behind it
    while not moving.done():
        assert await monitor.fetchval(WAITING_LOCKS, [writer.get_server_pid()]) == 0, "the writer waits for a lock"
        await asyncio.sleep(0)
    await moving
    await holder.execute("COMMIT")
    assert await per_key_differences(monitor) == []


async def load_big_table(world: World, connection: asyncpg.Connection) -> None:
    """BIG_TABLE cases in one INSERT ... SELECT: copies of one case over both groups and none,
    requested by a desk's many constituents, a few assigned to dana; then ANALYZE, as autovacuum
    would. (Many requesters, as on a desk: PostgreSQL's generic plan, the one casegraph's
    connections keep, estimates one requester's cases as the table over the number of requesters.)"""
    template = await insert_case(world, assigned_to=None)
    await connection.execute(
        "INSERT INTO users (id, roles, available, created_at, updated_at) "
        f"SELECT 'requester-' || i, '[\"CONSTITUENT\"]', TRUE, now(), now() FROM generate_series(0, {REQUESTERS - 1}) i"
    )
    columns = [
        row["column_name"]
        for row in await connection.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'cases' ORDER BY ordinal_position"
        )
    ]
    roads, benefits = world.group_ids["ROADS"], world.group_ids["BENEFITS"]
    replaced = {
        "id": "md5('big' || i)::uuid",
        "number": "'BIG' || i",
        "assignment_group_id": f"(ARRAY[{roads},{benefits},NULL])[1 + i % 3]",
        "assigned_to_id": "CASE WHEN i % 1000 = 0 THEN 'dana' END",
        "requester_id": f"'requester-' || (i % {REQUESTERS})",
        "status": "(ARRAY['NEW','OPEN','WORK_IN_PROGRESS','CLOSED'])[1 + i % 4]",
    }
    select = ",".join(replaced.get(column, f'"c"."{column}"') for column in columns)
    await connection.execute(
        f"INSERT INTO cases ({','.join(columns)}) SELECT {select} "
        f"FROM cases c, generate_series(1, {BIG_TABLE}) i WHERE c.id = $1",
        template.id,
    )
    await connection.execute("ANALYZE cases; ANALYZE case_counts")


def scans(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan] if "Relation Name" in plan else []
    for child in plan.get("Plans", []):
        found.extend(scans(child))
    return found


async def test_the_dashboard_total_reads_the_counts_and_only_per_user_indexes_of_cases(
    world: World, url: str, connections: list[asyncpg.Connection]
) -> None:
    # given 100,000 cases, a third in the agent's group
    connection = connections[0]
    await load_big_table(world, connection)
    agent = Actor(user_id="dana", roles=frozenset({Role.AGENT}), group_ids=frozenset({world.group_ids["ROADS"]}))
    for actor, statuses in ((agent, ()), (agent, OPEN_STATUSES), (world.actor("admin"), OPEN_STATUSES)):
        # when the page's total (as fetch_page writes it into its one statement) is explained
        statement = Statement(POSTGRES)
        expression = total_sql(statement, count_scope(actor, statuses=statuses))
        explained = await connection.fetchval(
            f'EXPLAIN (FORMAT JSON) SELECT {expression} AS "total"', *statement.params
        )
        # and as the generic plan casegraph's connections keep (plan_cache_mode, casegraph/db.py)
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        await connection.execute(f'PREPARE total_plan AS SELECT {expression} AS "total"')
        try:
            nulls = ",".join("NULL" for _ in statement.params)
            generic = await connection.fetchval(
                f"EXPLAIN (FORMAT JSON) EXECUTE total_plan{f'({nulls})' if statement.params else ''}"
            )
        finally:
            await connection.execute("DEALLOCATE total_plan")
            await connection.execute("RESET plan_cache_mode")
        read = scans(json.loads(explained)[0]["Plan"]) + scans(json.loads(generic)[0]["Plan"])
        # then the group term is a sum over case_counts, and cases is read only through an index
        # on a column naming the user (requester, assignee, inspector, draft author): never by group
        assert "case_counts" in {scan["Relation Name"] for scan in read}
        on_cases = [scan for scan in read if scan["Relation Name"] == "cases"]
        for scan in on_cases:
            assert scan["Node Type"] in {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}, scan
            condition = scan.get("Index Cond") or scan.get("Recheck Cond", "")
            assert any(
                column in condition for column in ("requester_id", "assigned_to_id", "inspector_id", "author_id")
            ), scan
            assert "assignment_group_id" not in condition, scan
        # and the total is exact
        visible = visible_cases(actor).filter(status__in=statuses) if statuses else visible_cases(actor)
        assert await connection.fetchval(f"SELECT {expression}", *statement.params) == await visible.count()
