"""One user's lists read that user's page, not the rows the years piled up (plan shape, 100,000 rows).

``notifications`` (newest first, all or unread only) and ``myTasks`` (open and in progress, soonest
due first) are EXPLAINed for a user who holds most of 100,000 notifications, nearly all read, and
most of 100,000 tasks, nearly all done. No timings: no sequential scan; the notifications are an
index walk in id order (no sort), the tasks are read through the assignee's tasks in the states
asked for (an index condition on the state), so finished tasks are never read.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import pytest
from tortoise.context import TortoiseContext
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from casegraph._compat import tortoise_queryset
from casegraph.database.sql import POSTGRES, dialect_of
from casegraph.db import migrate, tortoise_config
from casegraph.domain.enums import TaskState
from casegraph.services.case_tasks import task_walks, tasks_to_do
from casegraph.services.duplicates import similar_candidates, similar_walks
from casegraph.services.notifications import newest_notifications
from models import CaseTask
from tests.conftest import (
    BACKENDS,
    _create_pg_database_named,
    _drop_pg_database,
    _run_in_thread,
    forget_backend_caches,
)
from tests.database.case_page_scale import ACTORS, REQUESTERS, _rows, populate

ROWS: Final = 100_000
BUSY: Final = "sc-most"  # nine in ten notifications and tasks are this agent's
RARE: Final = "sc-field"  # one in a thousand
# Unread: all the rare user's notifications and one in a thousand of the busy agent's; open: one
# task in a thousand, the busy agent's.
PAGE: Final = 50
# case_page_scale's rare case type: one case in 1009.
RARE_TYPE_ID: Final = 2
INDEX_READS: Final = ("Index Scan", "Index Only Scan", "Bitmap Index Scan", "SEARCH")


@dataclass(frozen=True)
class LargeDatabase:
    url: str
    dialect: str


@pytest.fixture(scope="module", params=BACKENDS)
def large_database(request: pytest.FixtureRequest) -> Iterator[LargeDatabase]:
    if request.param == "postgres":
        name = f"casegraph_lists_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        url = _run_in_thread(lambda: _create_pg_database_named(name))
        _run_in_thread(lambda: _build(url))
        yield LargeDatabase(url, "postgres")
        _run_in_thread(lambda: _drop_pg_database(name))
    else:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite://{directory}/lists.sqlite3"
            _run_in_thread(lambda: _build(url))
            yield LargeDatabase(url, "sqlite")


async def _build(url: str) -> None:
    forget_backend_caches()
    await migrate(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        db = ctx.db()
        dialect = dialect_of(db)
        await populate(db, dialect, ROWS)
        # The tenth that is neither the busy nor the rare user's is spread over a desk's many
        # people: PostgreSQL's generic plan (the one casegraph's connections keep) estimates a
        # user's share as one over the number of users, as it is on a real desk, not one third.
        others = f"'sc-citizen-' || CAST(i % {REQUESTERS} AS TEXT)"
        owner = f"CASE WHEN i % 1000 = 0 THEN '{RARE}' WHEN i % 10 = 0 THEN {others} ELSE '{BUSY}' END"
        case_id = "(SELECT id FROM cases ORDER BY id LIMIT 1)"
        await db.execute_script(
            'INSERT INTO "notifications" ("user_id","case_id","kind","text","created_at","read_at") '
            f"SELECT {owner}, {case_id}, 'MENTION', 'Mentioned', CURRENT_TIMESTAMP,"
            f" CASE WHEN i % 1000 < 2 THEN NULL ELSE CURRENT_TIMESTAMP END FROM ({_rows(dialect, ROWS)}) AS r"
        )
        await db.execute_script(
            'INSERT INTO "case_tasks" ("title","state","created_at","case_id","assignee_id","due_at") '
            f"SELECT 'Inspect', CASE WHEN i % 1000 = 1 THEN 'OPEN' ELSE 'DONE' END, CURRENT_TIMESTAMP,"
            f" {case_id}, {owner}, CURRENT_TIMESTAMP FROM ({_rows(dialect, ROWS)}) AS r"
        )
        if dialect == POSTGRES:
            await db.execute_script("ANALYZE")


@pytest.fixture
async def large(large_database: LargeDatabase) -> AsyncIterator[LargeDatabase]:
    forget_backend_caches()
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(large_database.url))
        yield large_database


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


async def plan_of(query: QuerySet[Any]) -> list[str]:
    """The plan as lines: PostgreSQL's nodes ("Node Type on relation using index: condition"),
    SQLite's EXPLAIN QUERY PLAN details."""
    db = tortoise_queryset.connection_for(query)
    sql = query.sql(params_inline=True)
    if dialect_of(db) == POSTGRES:
        _, rows = await db.execute_query(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = rows[0][0]
        root = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
        return [
            f"{n['Node Type']} on {n.get('Relation Name', '')} using {n.get('Index Name', '')}: {n.get('Index Cond', '')}"
            for n in _nodes(root)
        ]
    _, rows = await db.execute_query(f"EXPLAIN QUERY PLAN {sql}")
    return [str(row[3]) for row in rows]


async def generic_plan_of(query: QuerySet[Any]) -> list[str]:
    """PostgreSQL's generic plan of the statement as casegraph sends it (with parameters): the plan
    its connections keep (``plan_cache_mode = force_generic_plan``, casegraph/db.py)."""
    db = tortoise_queryset.connection_for(query)
    sql = query.sql()
    async with db.acquire_connection() as connection:
        await connection.execute(f"PREPARE tasks_plan AS {sql}")
        try:
            nulls = ",".join("NULL" for _ in range(sql.count("$")))
            plan = await connection.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE tasks_plan({nulls})")
        finally:
            await connection.execute("DEALLOCATE tasks_plan")
    root = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
    return [
        f"{n['Node Type']} on {n.get('Relation Name', '')} using {n.get('Index Name', '')}: {n.get('Index Cond', '')}"
        for n in _nodes(root)
    ]


def by_the_users_index(line: str) -> bool:
    """A read of notifications by an index condition on the user (PostgreSQL or SQLite)."""
    return "(user_id" in line and line.startswith(("Index Scan", "Index Only Scan", "Bitmap Index Scan", "SEARCH"))


@pytest.mark.parametrize("who", [BUSY, RARE])
@pytest.mark.parametrize("unread_only", [False, True])
async def test_a_users_newest_notifications_are_an_index_walk_that_stops_at_the_page(
    large: LargeDatabase, unread_only: bool, who: str
) -> None:
    # given
    query = newest_notifications(who, unread_only=unread_only, limit=PAGE)
    assert await query
    # when: planned as it runs (PostgreSQL: the generic plan its connections keep)
    plan = await generic_plan_of(query) if large.dialect == POSTGRES else await plan_of(query)
    # then nothing is sorted and, unless the user owns most rows (then the newest rows are theirs),
    # the walk is of the user's part of an index
    assert not [line for line in plan if line.startswith(("Seq Scan", "Sort", "SCAN", "USE TEMP B-TREE"))], plan
    if who == RARE or unread_only:
        assert any(by_the_users_index(line) for line in plan), plan


async def test_a_users_open_tasks_are_read_without_the_finished_ones(large: LargeDatabase) -> None:
    # given: an agent with years of finished tasks and a page of open ones
    states = [TaskState.OPEN, TaskState.IN_PROGRESS]
    assert len(await tasks_to_do(BUSY, states, limit=PAGE)) == PAGE
    for walk in task_walks(BUSY, states, limit=PAGE):
        # when: planned as it runs — on PostgreSQL the generic plan its connections keep (they
        # never plan for a request's values, casegraph/db.py), on SQLite for the values
        plan = await generic_plan_of(walk) if large.dialect == POSTGRES else await plan_of(walk)
        # then: read through the assignee's tasks in that state, not all their tasks
        assert not [line for line in plan if line.startswith(("Seq Scan", "SCAN"))], plan
        served = [line for line in plan if "case_tasks_assignee_state" in line]
        assert served, plan
        assert all("state" in line for line in served), plan


async def test_the_merged_walks_are_the_tasks_in_due_order_undated_last(large: LargeDatabase) -> None:
    # given: every state, so the walks of several states are merged
    states = list(TaskState)
    # when
    page = await tasks_to_do(RARE, states, limit=PAGE)
    # then: the same as the whole of the agent's tasks ordered in Python, cut to the page
    everything = await CaseTask.filter(assignee_id=RARE, state__in=states, case__deleted_at__isnull=True)
    everything.sort(key=lambda task: (task.due_at is None, task.due_at or datetime.min.replace(tzinfo=UTC), task.id))
    assert [task.id for task in page] == [task.id for task in everything[:PAGE]]


@pytest.mark.parametrize("who", ["agent_who_sees_most", "admin"])
async def test_similar_cases_are_read_through_the_case_types_open_cases(large: LargeDatabase, who: str) -> None:
    # given a rare type (a hundred cases among 100,000, mostly closed; when nearly every case is of
    # the type, reading the open cases by status is the same rows, and PostgreSQL may prefer it)
    walks = similar_walks(ACTORS[who], RARE_TYPE_ID, str(uuid.uuid4()), Q(title__icontains="Case 1"))
    assert await similar_candidates(ACTORS[who], RARE_TYPE_ID, str(uuid.uuid4()), Q(title__icontains="Case 1"))
    for walk in walks:
        # when: planned as it runs (PostgreSQL: the generic plan its connections keep)
        plan = await generic_plan_of(walk) if large.dialect == POSTGRES else await plan_of(walk)
        # then every read of cases is by an index led by the case type and status, not every open case
        assert not [line for line in plan if line.startswith(("Seq Scan", "SCAN"))], plan
        reads = [line for line in plan if line.startswith(INDEX_READS) and "case_tasks" not in line]
        assert reads, plan
        assert all("case_type_id" in line for line in reads), plan
