"""At 100,000 cases a one-week analytics request reads that week, not every case (plan shape).

Every statement each aggregate runs is EXPLAINed (PostgreSQL: with the request's values and as the
generic plan casegraph's connections keep; SQLite: EXPLAIN QUERY PLAN) for an administrator over
every case, one case type, and agents of many and of few groups. No timings: no sequential scan
of cases, case_events, case_timers or surveys, no walk of a whole index of them (a scan with no
index condition), no hash or merge join reading the scope's cases (all of a group's, to join
the period's rows to)
— and every aggregate reaches its rows through a range index of migration 0021, so what it
reads is bounded by the period and not by the table.
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import pytest
from tortoise.context import TortoiseContext

from casegraph.database.sql import POSTGRES, dialect_of
from casegraph.db import migrate, tortoise_config
from casegraph.services import analytics as counts
from casegraph.services import analytics_times as times
from casegraph.services.analytics_scope import Scope
from casegraph.services.analytics_sql import Statement
from tests.conftest import (
    BACKENDS,
    _create_pg_database_named,
    _drop_pg_database,
    _run_in_thread,
    forget_backend_caches,
)
from tests.database.case_page_scale import FEW_GROUP, MOST_GROUPS
from tests.services.analytics_scale import CASE_TYPES, SPACING, START, populate_history

CASES: Final = 100_000
HISTORY: Final = timedelta(minutes=SPACING * CASES)
# The last whole week: the backlog reads the moves from `from` to now (its balance before `from`
# is what is open now less those), the other aggregates only the week whichever week it is.
WEEK_START: Final = START + HISTORY - timedelta(weeks=2)
# Tables that grow with the desk's history; group_memberships and case_types do not.
GROWING: Final = frozenset({"cases", "case_events", "case_timers", "surveys"})
ALIASES: Final = frozenset({"c", "e", "l", "t", "s"})  # the analytics SQL's aliases of GROWING
RANGE_INDEXES: Final = frozenset(importlib.import_module("models.migrations.0021_scan_indexes").INDEXES)


def scope(groups: tuple[int, ...] | None = None, case_types: tuple[int, ...] | None = None) -> Scope:
    return Scope(
        group_ids=groups,
        case_type_ids=case_types,
        start=WEEK_START,
        end=WEEK_START + timedelta(weeks=1),
        now=START + HISTORY,
    )


SCOPES: Final = {
    "admin": scope(),
    "admin_one_case_type": scope(case_types=CASE_TYPES[:1]),
    "agent_who_sees_most": scope(groups=MOST_GROUPS),
    "agent_who_sees_few": scope(groups=(FEW_GROUP,)),
}
AGGREGATES: Final[dict[str, Callable[[Scope], Awaitable[object]]]] = {
    "openCases": lambda s: counts.open_cases(s, [counts.OpenCaseDimension.STATUS, counts.OpenCaseDimension.GROUP]),
    "backlog": lambda s: counts.backlog(s, counts.BacklogInterval.DAY),
    "slaCompliance": counts.sla_compliance,
    "reopenRate": counts.reopen_rate,
    "satisfaction": counts.satisfaction,
    "firstResponseTime": times.first_response_time,
    "resolutionTime": times.resolution_time,
    "agentWorkload": times.agent_workload,
}


@dataclass(frozen=True)
class LargeDatabase:
    url: str
    dialect: str


@pytest.fixture(scope="module", params=BACKENDS)
def large_database(request: pytest.FixtureRequest) -> Iterator[LargeDatabase]:
    """A migrated database of 100,000 cases and their history built in SQL, shared by this module."""
    if request.param == "postgres":
        name = f"casegraph_analytics_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        url = _run_in_thread(lambda: _create_pg_database_named(name))
        _run_in_thread(lambda: _build(url))
        yield LargeDatabase(url, "postgres")
        _run_in_thread(lambda: _drop_pg_database(name))
    else:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite://{directory}/analytics.sqlite3"
            _run_in_thread(lambda: _build(url))
            yield LargeDatabase(url, "sqlite")


async def _build(url: str) -> None:
    forget_backend_caches()
    await migrate(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        db = ctx.db()
        await populate_history(db, dialect_of(db), CASES)


@pytest.fixture
async def large(large_database: LargeDatabase) -> AsyncIterator[LargeDatabase]:
    forget_backend_caches()
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(large_database.url))
        yield large_database


async def statements_of(
    aggregate: Callable[[Scope], Awaitable[object]], of: Scope, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[Statement, str, list[Any]]]:
    """Every statement the aggregate runs, with its parameters, as it runs them."""
    seen: list[tuple[Statement, str, list[Any]]] = []
    original = Statement.fetch

    async def recording(self: Statement, sql: str) -> list[dict[str, Any]]:
        text, params = self.render(sql)
        seen.append((self, text, params))
        return await original(self, sql)

    with monkeypatch.context() as patch:
        patch.setattr(Statement, "fetch", recording)
        await aggregate(of)
    return seen


async def postgres_plan(stmt: Statement, text: str, params: list[Any], *, generic: bool) -> dict[str, Any]:
    """The plan for these values, or (``generic``) the one PostgreSQL keeps for any values."""
    async with stmt.connection.acquire_connection() as connection:
        if not generic:
            plan = await connection.fetchval(f"EXPLAIN (FORMAT JSON) {text}", *params)
        else:
            await connection.execute(f"PREPARE analytics_plan AS {text}")
            try:
                nulls = ",".join("NULL" for _ in params)
                plan = await connection.fetchval(
                    f"EXPLAIN (FORMAT JSON) EXECUTE analytics_plan{f'({nulls})' if params else ''}"
                )
            finally:
                await connection.execute("DEALLOCATE analytics_plan")
    return dict((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _join_inputs(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The nodes that feed a join row by row: not through an aggregate (joining the grouped rows
    of a few agents, as the workload does, reads no case twice)."""
    for child in node.get("Plans", []):
        if child["Node Type"] not in ("Aggregate", "Group", "WindowAgg", "CTE Scan", "Subquery Scan"):
            yield child
            yield from _join_inputs(child)


def postgres_reads(plan: dict[str, Any]) -> tuple[list[str], set[str]]:
    """Whole-table reads of the growing tables, and the indexes the plan reads them through."""
    problems, used = [], set()
    for node in _nodes(plan):
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in GROWING:
            problems.append(f"sequential scan of {node['Relation Name']}")
        if node["Node Type"] in ("Hash Join", "Merge Join") and any(
            n.get("Relation Name") == "cases" for n in _join_inputs(node)
        ):
            # Every case of the scope read to be joined: a group's share of the table, not the
            # period's cases, which are looked up by key.
            problems.append(f"the scope's cases read whole for a {node['Node Type']}")
        if "Index Name" in node:
            used.add(str(node["Index Name"]))
            # Every index the analytics read is read by a range or a key: none is walked whole.
            if "Index Cond" not in node:
                problems.append(f"whole index {node['Index Name']} read ({node['Node Type']})")
    return problems, used


async def sqlite_reads(stmt: Statement, text: str, params: list[Any]) -> tuple[list[str], set[str]]:
    _, rows = await stmt.connection.execute_query(f"EXPLAIN QUERY PLAN {text}", params)
    problems, used = [], set()
    for row in rows:
        words = str(row[3]).split()
        if words[0] not in ("SCAN", "SEARCH") or words[1] not in ALIASES | GROWING:
            continue
        if "INDEX" in words:
            used.add(words[words.index("INDEX") + 1])
        if words[0] == "SCAN":
            problems.append(f"full scan: {row[3]}")
    return problems, used


@pytest.mark.parametrize("aggregate", list(AGGREGATES))
@pytest.mark.parametrize("who", list(SCOPES))
async def test_a_weeks_analytics_read_that_week_through_its_range_indexes(
    large: LargeDatabase, who: str, aggregate: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the statements the aggregate runs for one week of 100,000 cases' history
    statements = await statements_of(AGGREGATES[aggregate], SCOPES[who], monkeypatch)
    assert statements
    problems: list[str] = []
    used: set[str] = set()
    for stmt, text, params in statements:
        # when
        if large.dialect == POSTGRES:
            for generic in (False, True):
                found, through = postgres_reads(await postgres_plan(stmt, text, params, generic=generic))
                problems += [f"{'generic' if generic else 'custom'}: {p}" for p in found]
                used |= through
        else:
            found, through = await sqlite_reads(stmt, text, params)
            problems += found
            used |= through
    # then
    assert not problems, problems
    assert used & RANGE_INDEXES, f"no range index of 0021 used (used {sorted(used)})"
