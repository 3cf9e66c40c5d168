"""At 100,000 cases the queue page is an index walk, not a sort of every visible case (plan shape).

The page statement (database/case_pages.py, the one both the resolver and the compiled path run)
is EXPLAINed for each kind of reader, with the dashboard's filter (open statuses) and with none,
on its first page and on the page after it, for every ordering both ways. No timings: the plan
must not sort the visible set — on PostgreSQL no sequential scan of cases and no Sort fed by a
scan of cases other than one user's own cases (their index, bounded by their involvement) or one
status of one branch (a slice the planner estimates small enough to sort); on SQLite no full scan
of cases and no temporary B-tree over cases read through another index. The large paths must be
walked in the ordering's column order (an index of migration 0013; on PostgreSQL also the
column's own index when the planner prefers it, with an incremental sort of ties).
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Final

import pytest
from tortoise.context import TortoiseContext

from casegraph._compat import tortoise_queryset
from casegraph.database import case_search
from casegraph.database.case_pages import page_statement
from casegraph.database.sql import POSTGRES, Statement, dialect_of, render_condition
from casegraph.db import migrate, tortoise_config
from casegraph.domain.attachments import sees_internal
from casegraph.domain.enums import CaseStatus
from casegraph.domain.search import search_text
from casegraph.services.case_queries import CaseFilter, OrderField, Ordering, list_cases, page_request
from tests.conftest import (
    BACKENDS,
    _create_pg_database_named,
    _drop_pg_database,
    _run_in_thread,
    forget_backend_caches,
)
from tests.database.case_page_scale import ACTORS, FLOOD_EVERY, RARE_TYPE, populate

CASES: Final = 100_000
PAGE: Final = 50
DASHBOARD: Final = CaseFilter(
    statuses=(
        CaseStatus.NEW,
        CaseStatus.OPEN,
        CaseStatus.AWAITING_INFO,
        CaseStatus.WORK_IN_PROGRESS,
        CaseStatus.WORK_ASSIGNMENT_IN_PROGRESS,
        CaseStatus.INSPECTION_IN_PROGRESS,
        CaseStatus.READY_FOR_DECISION,
    )
)
FILTERS: Final = {"dashboard": DASHBOARD, "none": CaseFilter()}
# One user's own cases: fetched through these and sorted (requester, assignee, inspector, own
# drafts; a task assignee's cases by primary key).
PER_USER_INDEXES: Final = frozenset(
    {
        "idx_cases_request_995772",
        "idx_cases_assigne_0c1659",
        "cases_inspector",
        "cases_draft_author",
        "cases_pkey",
        "sqlite_autoindex_cases_1",
        # 0024's requester-led page indexes: the same user's cases, by a longer key.
        *(f"cases_page_requester_{field.value}" for field in OrderField),
    }
)
# Readers whose large paths (groups, agency, all cases) must be index walks.
WALKERS: Final = frozenset({"agent_who_sees_most", "agent_who_sees_few", "admin", "partner"})


@dataclass(frozen=True)
class LargeDatabase:
    url: str
    dialect: str


@pytest.fixture(scope="module", params=BACKENDS)
def large_database(request: pytest.FixtureRequest) -> Iterator[LargeDatabase]:
    """A migrated database of 100,000 cases built in SQL, shared by this module's tests."""
    if request.param == "postgres":
        name = f"casegraph_plans_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        url = _run_in_thread(lambda: _create_pg_database_named(name))
        _run_in_thread(lambda: _build(url))
        yield LargeDatabase(url, "postgres")
        _run_in_thread(lambda: _drop_pg_database(name))
    else:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite://{directory}/plans.sqlite3"
            _run_in_thread(lambda: _build(url))
            yield LargeDatabase(url, "sqlite")


async def _build(url: str) -> None:
    forget_backend_caches()
    await migrate(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        db = ctx.db()
        await populate(db, dialect_of(db), CASES)


@pytest.fixture
async def large(large_database: LargeDatabase) -> AsyncIterator[LargeDatabase]:
    forget_backend_caches()
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(large_database.url))
        yield large_database


async def explained(
    who: str, flt: CaseFilter, ordering: Ordering, after: str | None, *, generic: bool = False
) -> tuple[str, Any]:
    """The page statement as both paths build it, and its plan (``generic``: the plan PostgreSQL
    keeps for the prepared statement, whatever its parameters, as casegraph's connections run it)."""
    request = await page_request(actor=ACTORS[who], flt=flt, ordering=ordering, first=PAGE, after=after, max_page=100)
    db = tortoise_queryset.connection_for(request.matching)
    dialect = dialect_of(db)
    statement = Statement(dialect)
    sql = page_statement(
        statement,
        request.page_shape(dialect).branches,
        request.page_shape(dialect).filtered,
        request.after_condition(),
        columns=["id", ordering.field.value],
        order_column=ordering.field.value,
        descending=ordering.descending,
        limit=PAGE + 1,
    )
    if dialect == POSTGRES and generic:
        async with db.acquire_connection() as connection:
            await connection.execute(f"PREPARE page_plan AS {sql}")
            try:
                # The values do not matter to a generic plan: NULL for each parameter.
                nulls = ",".join("NULL" for _ in statement.params)
                plan = await connection.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE page_plan({nulls})")
            finally:
                await connection.execute("DEALLOCATE page_plan")
        return dialect, (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
    if dialect == POSTGRES:
        _, rows = await db.execute_query(f"EXPLAIN (FORMAT JSON) {sql}", statement.params)
        plan = rows[0][0]
        return dialect, (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
    _, rows = await db.execute_query(f"EXPLAIN QUERY PLAN {sql}", statement.params)
    return dialect, [(row[0], row[1], row[3]) for row in rows]


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _index_of(scan: dict[str, Any]) -> str | None:
    """The index a scan of cases goes through (for a bitmap scan, those of its bitmap)."""
    if "Index Name" in scan:
        return str(scan["Index Name"])
    names = {str(n["Index Name"]) for n in _nodes(scan) if "Index Name" in n}
    return ",".join(sorted(names)) or None


def _sorted_inputs(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Scans of cases feeding a Sort directly (not through a Limit: those are bounded)."""
    for child in node.get("Plans", []):
        if child.get("Relation Name") == "cases":
            yield child
        elif child["Node Type"] not in ("Limit", "Merge Append"):
            yield from _sorted_inputs(child)


def _conditions(scan: dict[str, Any]) -> str:
    """The index conditions a scan (or its bitmap) reads by: what bounds the rows it reads."""
    return " ".join(str(n.get("Index Cond", "")) + str(n.get("Recheck Cond", "")) for n in _nodes(scan))


def postgres_problems(plan: dict[str, Any], column: str, walks: bool) -> list[str]:
    problems = []
    walked = False
    for node in _nodes(plan):
        if node.get("Relation Name") == "cases":
            if node["Node Type"] == "Seq Scan":
                problems.append("sequential scan of cases")
            index = _index_of(node) or ""
            walked |= index.startswith("cases_page_") and index.endswith(column) and "Scan" in node["Node Type"]
        presorted = node.get("Presorted Key", [""])[0].endswith(f".{column}")
        if node["Node Type"] == "Incremental Sort" and presorted:
            walked = True  # an index walk in the page's order: only ties on the order column are sorted
            continue
        if node["Node Type"] in ("Sort", "Incremental Sort"):
            for scan in _sorted_inputs(node):
                index = _index_of(scan) or scan["Node Type"]
                # One user's cases, or one status of one large path (a group's, the agency's, all)
                # that the planner found small enough to sort: a branch's slice, not the visible set.
                one_slice = "(status)::text = " in _conditions(scan)
                if not (set(index.split(",")) <= PER_USER_INDEXES or one_slice):
                    problems.append(f"sort over cases read through {index}")
    if walks and not walked:
        problems.append(f"no index walked in {column} order")
    return problems


def sqlite_problems(plan: list[tuple[int, int, str]], column: str, walks: bool) -> list[str]:
    problems = []
    used: set[str] = set()
    sorts = {parent for _, parent, detail in plan if detail.startswith("USE TEMP B-TREE FOR ORDER BY")}
    for _, parent, detail in plan:
        if not detail.startswith(("SCAN cases", "SEARCH cases")):
            continue
        words = detail.split()
        index = words[words.index("INDEX") + 1] if "INDEX" in words else ""
        used.add(index)
        if detail.startswith("SCAN cases"):
            problems.append(f"full scan: {detail}")
        elif parent in sorts and index not in PER_USER_INDEXES:
            problems.append(f"sorted after {detail}")
    if walks and not any(name.startswith("cases_page_") and name.endswith(column) for name in used):
        problems.append(f"no cases_page_*_{column} index walked (used {sorted(used)})")
    return problems


@pytest.mark.parametrize("field", list(OrderField))
@pytest.mark.parametrize("who", list(ACTORS))
async def test_the_page_walks_indexes_without_sorting_the_visible_cases(
    large: LargeDatabase, who: str, field: OrderField
) -> None:
    problems: dict[str, list[str]] = {}
    for descending in (True, False):
        for filter_name, flt in FILTERS.items():
            ordering = Ordering(field, descending)
            # given the first page, and its cursor
            first_page = await list_cases(
                actor=ACTORS[who], flt=flt, ordering=ordering, first=PAGE, after=None, max_page=100
            )
            assert first_page.records, (who, filter_name)
            for after in (None, first_page.cursors[-1]):
                # when
                dialect, plan = await explained(who, flt, ordering, after)
                # then
                walks = who in WALKERS
                found = (
                    postgres_problems(plan, field.value, walks)
                    if dialect == POSTGRES
                    else sqlite_problems(plan, field.value, walks)
                )
                if found:
                    problems[f"{'desc' if descending else 'asc'} {filter_name} {'after' if after else 'first'}"] = found
    assert not problems


@pytest.mark.parametrize("field", list(OrderField))
@pytest.mark.parametrize("who", list(ACTORS))
async def test_the_plan_postgresql_keeps_for_the_page_walks_indexes_too(
    large: LargeDatabase, who: str, field: OrderField
) -> None:
    # casegraph's connections plan a kept statement once for any parameters (casegraph/db.py):
    # that generic plan, not one made for a request's values, is what every request then runs.
    if large.dialect != POSTGRES:
        pytest.skip("SQLite plans every statement for its values: the test above covers it")
    problems: dict[str, list[str]] = {}
    for descending in (True, False):
        for filter_name, flt in FILTERS.items():
            ordering = Ordering(field, descending)
            first_page = await list_cases(
                actor=ACTORS[who], flt=flt, ordering=ordering, first=PAGE, after=None, max_page=100
            )
            for after in (None, first_page.cursors[-1] if first_page.cursors else None):
                # when
                _, plan = await explained(who, flt, ordering, after, generic=True)
                # then
                found = postgres_problems(plan, field.value, who in WALKERS)
                if found:
                    problems[f"{'desc' if descending else 'asc'} {filter_name} {'after' if after else 'first'}"] = found
    assert not problems


# A selective filter for a reader who sees most cases, and the indexes that lead with its column
# (0024's page indexes and 0013's assignee ones, 0011's lookups, the reader's own drafts).
SELECTIVE: Final = {
    "requester": (CaseFilter(requester_id="sc-citizen-7"), ("cases_page_requester_", "idx_cases_request_995772")),
    "assignee": (CaseFilter(assigned_to_id="sc-few"), ("cases_page_assignee_", "idx_cases_assigne_0c1659")),
    "case type": (CaseFilter(case_type_codes=(RARE_TYPE,)), ("cases_page_type_",)),
    "requester's open cases": (
        CaseFilter(requester_id="sc-citizen-7", statuses=DASHBOARD.statuses),
        ("cases_page_requester_", "idx_cases_request_995772"),
    ),
}
OWN_DRAFTS: Final = ("cases_draft_author", "slice")


def indexes_read(dialect: str, plan: Any) -> list[str]:
    """The index (or "table scan") of every read of cases in a plan. On PostgreSQL, a read of one
    status the planner finds at most a page long (a status no case or a handful has) is a slice,
    not a walk: "slice"."""
    if dialect == POSTGRES:
        return [
            "slice"
            if node["Plan Rows"] <= PAGE and "(status)::text = " in _conditions(node)
            else _index_of(node) or "table scan"
            for node in _nodes(plan)
            if node.get("Relation Name") == "cases"
        ]
    found = []
    for _, _, detail in plan:
        if detail.startswith(("SCAN cases", "SEARCH cases")):
            words = detail.split()
            found.append(words[words.index("INDEX") + 1] if "INDEX" in words else "table scan")
    return found


@pytest.mark.parametrize("field", [OrderField.UPDATED_AT, OrderField.PRIORITY])
@pytest.mark.parametrize("filter_name", list(SELECTIVE))
@pytest.mark.parametrize("who", ["agent_who_sees_most", "admin"])
async def test_a_selective_filter_is_walked_from_its_own_index_not_through_what_the_reader_sees(
    large: LargeDatabase, who: str, filter_name: str, field: OrderField
) -> None:
    # given a filter matching a few dozen or hundred of the 100,000 cases, for a reader who sees most
    flt, led_by = SELECTIVE[filter_name]
    ordering = Ordering(field, descending=True)
    first_page = await list_cases(actor=ACTORS[who], flt=flt, ordering=ordering, first=PAGE, after=None, max_page=100)
    assert first_page.records, filter_name
    problems: dict[str, list[str]] = {}
    for after in (None, first_page.cursors[-1]):
        # when
        dialect, plan = await explained(who, flt, ordering, after)
        # then every read of cases goes through an index led by the filter's column (or the
        # reader's own drafts): not a walk of the reader's groups with the filter as a row filter
        off = [index for index in indexes_read(dialect, plan) if not index.startswith((*led_by, *OWN_DRAFTS))]
        if off:
            problems["after" if after else "first"] = off
    assert not problems


# --- issue 19: a text search reads the search index, then its matches' cases by primary key ---
SEARCH_INDEXES: Final = frozenset({"case_search_public", "case_search_staff"})
CASE_BY_ID: Final = frozenset({"cases_pkey", "sqlite_autoindex_cases_1"})


async def explained_search(who: str, text: str, flt: CaseFilter) -> tuple[str, list[Any]]:
    """The search page's statement as ``list_cases`` sends it, and its plan (on PostgreSQL the
    generic one casegraph's connections keep, casegraph/db.py)."""
    request = await page_request(actor=ACTORS[who], flt=flt, ordering=Ordering(), first=PAGE, after=None, max_page=100)
    db = tortoise_queryset.connection_for(request.matching)
    dialect = dialect_of(db)
    sql, params = case_search.page_sql(
        dialect,
        search_text(text),
        render_condition(request.matching),
        None,
        internal=sees_internal(ACTORS[who]),
        columns=("id", "updated_at"),
        limit=PAGE + 1,
    )
    if dialect == POSTGRES:
        # Only the generic plan: PostgreSQL estimates a prefix match (``flooding:*``) at 2% of the
        # rows at least, so a plan for the values would scan the vectors of 100,000 cases; the
        # generic plan, the one casegraph's connections keep and run, reads the GIN index.
        plans = []
        async with db.acquire_connection() as connection:
            await connection.execute(f"PREPARE search_plan AS {sql}")
            try:
                nulls = ",".join("NULL" for _ in params)
                plans.append(await connection.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE search_plan({nulls})"))
            finally:
                await connection.execute("DEALLOCATE search_plan")
        return dialect, [(plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"] for plan in plans]
    _, rows = await db.execute_query(f"EXPLAIN QUERY PLAN {sql}", params)
    return dialect, [[(row[0], row[1], row[3]) for row in rows]]


def search_reads(dialect: str, plan: Any) -> tuple[set[str], set[str]]:
    """How a search plan reads the search index (its indexes, "table scan") and the cases (their
    indexes, "table scan")."""
    if dialect == POSTGRES:
        nodes = list(_nodes(plan))
        searched = {_index_of(n) or "table scan" for n in nodes if n.get("Relation Name") == "case_search"}
        cases = {_index_of(n) or "table scan" for n in nodes if n.get("Relation Name") == "cases"}
        # A bitmap scan names the indexes of its bitmap together.
        return {i for name in searched for i in name.split(",")}, {i for name in cases for i in name.split(",")}
    searched = set()
    cases = set()
    for _, _, detail in plan:
        if detail.startswith("SCAN case_search_fts VIRTUAL TABLE INDEX"):
            searched.add("fts5")
        if detail.startswith(("SCAN cases", "SEARCH cases")):
            words = detail.split()
            cases.add(words[words.index("INDEX") + 1] if "INDEX" in words else "table scan")
    return searched, cases


# Readers who see most cases: their search must start from the words (the search index). A reader
# who sees few (a requester, a field agent, a small group) may instead read their own cases by
# their index and check each one's vector by key: bounded by what they see, also not the table.
SEARCH_WALKERS: Final = frozenset({"agent_who_sees_most", "admin"})


@pytest.mark.parametrize("filter_name", list(FILTERS))
@pytest.mark.parametrize("who", list(ACTORS))
async def test_a_text_search_reads_the_search_index_and_its_matches_by_id_not_the_cases_table(
    large: LargeDatabase, who: str, filter_name: str
) -> None:
    # given: a word one case in 997 has, among 100,000 cases (the admin sees all but deleted ones and drafts)
    flt = FILTERS[filter_name]
    page = await list_cases(
        actor=ACTORS["admin"],
        flt=CaseFilter(text="flooding"),
        ordering=Ordering(),
        first=PAGE,
        after=None,
        max_page=100,
    )
    assert page.total == len([i for i in range(1, CASES + 1) if i % FLOOD_EVERY == 0 and i % 97 != 0 and i % 20 != 0])
    # when
    dialect, plans = await explained_search(who, "flooding", flt)
    # then: the matches come from the search index (GIN; FTS5), the reader's own vector or columns,
    # and each match's case is read by its primary key: no scan of cases or of the search table
    vector = "case_search_staff" if sees_internal(ACTORS[who]) else "case_search_public"
    for plan in plans:
        searched, cases = search_reads(dialect, plan)
        assert searched and "table scan" not in searched and "table scan" not in cases, (searched, cases, plan)
        if dialect == POSTGRES:
            assert searched <= {vector, "case_search_pkey"}, (searched, plan)
            assert vector in searched or cases <= PER_USER_INDEXES | CASE_BY_ID, (searched, cases, plan)
        if who in SEARCH_WALKERS:
            assert searched == ({vector} if dialect == POSTGRES else {"fts5"}), (searched, plan)
            assert cases <= CASE_BY_ID, (cases, plan)
