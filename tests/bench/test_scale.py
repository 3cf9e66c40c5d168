"""The data set above 10,000 cases: finished cases copied in SQL (``bench.scale``), and the sizes option.

The copies are made by PostgreSQL with foreign-key triggers off, so nothing but these checks
stands between a wrong copy and a benchmark measured on inconsistent rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest
from tortoise.context import TortoiseContext

from bench.dataset import DatasetSpec, load_dataset
from bench.queue import parse_sizes
from bench.scale import COPIED_TABLES, COPY_SHIFT, FINISHED, ScaleError, multiply_finished_cases
from casegraph.database.counters import CASE_NUMBER, CASE_NUMBER_START, EVENT_SEQUENCE, next_value

SPEC = DatasetSpec(cases=120, seed=5, now=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
LAST_GENERATED = f"CS{CASE_NUMBER_START + SPEC.cases:07d}"

# The newest page an agent's queue could show: what the copies must leave as it was.
NEWEST_PAGE = (
    "SELECT id FROM cases WHERE deleted_at IS NULL AND status <> 'DRAFT' ORDER BY updated_at DESC, id DESC LIMIT 50"
)


def _asyncpg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def _children(connection: asyncpg.Connection, *, copies: bool) -> dict[str, int]:
    """Rows of each child table that belong to a copied case, or to a finished generated one."""
    which = "c.number > $1" if copies else "c.number <= $1 AND c.status = ANY($2::text[]) AND c.deleted_at IS NULL"
    arguments = (LAST_GENERATED,) if copies else (LAST_GENERATED, list(FINISHED))
    return {
        table: int(
            await connection.fetchval(
                f"SELECT count(*) FROM {table} t JOIN cases c ON c.id = t.case_id WHERE {which}", *arguments
            )
        )
        for table in COPIED_TABLES[1:]
    }


async def _orphans(connection: asyncpg.Connection) -> dict[str, int]:
    """Rows of each child table whose case does not exist."""
    orphans = {}
    for table in COPIED_TABLES[1:]:
        orphans[table] = int(
            await connection.fetchval(
                f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = t.case_id)"
            )
        )
    return orphans


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
async def test_two_whole_copies_double_the_finished_cases_with_their_tasks_timers_and_events(
    db: TortoiseContext, pg_database_url: str
) -> None:
    # given
    await load_dataset(pg_database_url, SPEC)
    connection = await asyncpg.connect(_asyncpg(pg_database_url))
    try:
        finished = int(
            await connection.fetchval(
                "SELECT count(*) FROM cases WHERE status = ANY($1::text[]) AND deleted_at IS NULL", list(FINISHED)
            )
        )
        children = await _children(connection, copies=False)
        page = await connection.fetch(NEWEST_PAGE)
        originals = [
            (r["title"], r["updated_at"])
            for r in await connection.fetch(
                "SELECT title, updated_at FROM cases WHERE status = ANY($1::text[]) AND deleted_at IS NULL",
                list(FINISHED),
            )
        ]
        indexes = await connection.fetchval(
            "SELECT count(*) FROM pg_indexes WHERE tablename = ANY($1::text[])", list(COPIED_TABLES)
        )
        assert finished > 10 and all(children.values())

        # when
        copies = await multiply_finished_cases(connection, 2 * finished)

        # then: every copy is a finished case with a fresh id and number, older than its original
        assert copies == 2
        cases, ids, numbers = await connection.fetchrow(
            "SELECT count(*), count(DISTINCT id), count(DISTINCT number) FROM cases"
        )
        assert cases == ids == numbers == SPEC.cases + 2 * finished
        assert await _children(connection, copies=False) == children
        assert await _children(connection, copies=True) == {table: 2 * n for table, n in children.items()}
        assert await _orphans(connection) == dict.fromkeys(COPIED_TABLES[1:], 0)
        events, sequences = await connection.fetchrow("SELECT count(*), count(DISTINCT sequence) FROM case_events")
        assert events == sequences
        copied = await connection.fetch(
            "SELECT title, updated_at FROM cases WHERE number > $1 ORDER BY title, updated_at", LAST_GENERATED
        )
        assert sorted((r["title"], r["updated_at"]) for r in copied) == sorted(
            (title, updated - k * COPY_SHIFT) for title, updated in originals for k in (1, 2)
        )
        # … so an agent's newest page is the same, and the indexes dropped for the copy are back.
        assert await connection.fetch(NEWEST_PAGE) == page
        assert (
            await connection.fetchval(
                "SELECT count(*) FROM pg_indexes WHERE tablename = ANY($1::text[])", list(COPIED_TABLES)
            )
            == indexes
        )
    finally:
        await connection.close()

    # and casegraph numbers its next case and event after the copies
    number = await next_value(CASE_NUMBER)
    sequence = await next_value(EVENT_SEQUENCE)
    check = await asyncpg.connect(_asyncpg(pg_database_url))
    try:
        assert await check.fetchval("SELECT count(*) FROM cases WHERE number = $1", f"CS{number:07d}") == 0
        assert sequence > await check.fetchval("SELECT max(sequence) FROM case_events")
    finally:
        await check.close()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
async def test_a_part_copy_adds_exactly_the_cases_asked_for(db: TortoiseContext, pg_database_url: str) -> None:
    # given
    await load_dataset(pg_database_url, SPEC)
    connection = await asyncpg.connect(_asyncpg(pg_database_url))
    try:
        finished = int(
            await connection.fetchval(
                "SELECT count(*) FROM cases WHERE status = ANY($1::text[]) AND deleted_at IS NULL", list(FINISHED)
            )
        )
        extra = finished + finished // 2

        # when
        copies = await multiply_finished_cases(connection, extra)

        # then
        assert copies == 2
        assert await connection.fetchval("SELECT count(*) FROM cases") == SPEC.cases + extra
        assert await _orphans(connection) == dict.fromkeys(COPIED_TABLES[1:], 0)
    finally:
        await connection.close()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
async def test_a_negative_number_of_copies_is_refused_and_changes_nothing(
    db: TortoiseContext, pg_database_url: str
) -> None:
    await load_dataset(pg_database_url, SPEC)
    connection = await asyncpg.connect(_asyncpg(pg_database_url))
    try:
        with pytest.raises(ScaleError, match="cannot add -1 cases"):
            await multiply_finished_cases(connection, -1)
        assert await connection.fetchval("SELECT count(*) FROM cases") == SPEC.cases
    finally:
        await connection.close()


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("10000,1000000", (10_000, 1_000_000)),
        ("10k, 1M", (10_000, 1_000_000)),
        ("2_000", (2_000,)),
        ("20000,2000", (20_000, 2_000)),
    ],
)
def test_the_sizes_option_reads_numbers_of_cases(text: str, sizes: tuple[int, ...]) -> None:
    assert parse_sizes(text) == sizes


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "not a number of cases: ''"),
        ("ten", "not a number of cases: 'ten'"),
        ("0", "not a number of cases: '0'"),
        ("-5", "not a number of cases: '-5'"),
        ("1.5M", "not a number of cases: '1.5M'"),
        ("10k,10000", "a size is given twice"),
    ],
)
def test_the_sizes_option_refuses_what_is_not_a_list_of_sizes(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_sizes(text)
