"""A data set of any size: the generated one, with its finished cases copied in SQL.

Generating a case in Python (its path through the life cycle, its event log and SLA timers) is
the slow part of ``bench.dataset``; a million of them would take many minutes. So a data set
above ``BASE_CASES`` is the ``BASE_CASES``-case one (``bench.dataset``, same seed) plus copies of
its *finished* cases (closed or cancelled, not deleted) made by PostgreSQL itself: ``INSERT …
SELECT`` over ``generate_series``, each copy with fresh ids and case numbers, its tasks, SLA timers
and events copied with it, and every timestamp moved ``COPY_SHIFT`` further into the past per copy.

Why only finished cases, further back in time: a city's case table is mostly its history. The open
cases stay the generated ones, spread over every group, so an agent's queue (and its newest 50)
is the same page at every size and only the table under it grows. A finished case's timers are
stopped, so the server's SLA evaluator has nothing to do with the copies during a run. What the
copies do not follow: their event sequences come after the generated ones (a copy's events are
older than their sequence suggests), and event summaries keep their original text.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import asyncpg

from bench.dataset import CASE_COLUMNS, EVENT_COLUMNS, TASK_COLUMNS, TIMER_COLUMNS, DatasetSpec, GeneratedDataset
from bench.dataset import load_dataset as load_generated
from bench.services import BENCH_DATABASE, PrivatePostgres, create_bench_database
from casegraph.database.counters import CASE_NUMBER, CASE_NUMBER_START, EVENT_SEQUENCE
from casegraph.db import migrate

BASE_CASES: Final = 10_000
COPY_SHIFT: Final = timedelta(days=14)
FINISHED: Final = ("CLOSED", "CANCELLED")
COPIED_TABLES: Final = ("cases", "case_tasks", "case_timers", "case_events")

# Columns moved back in time with each copy; ids and numbers are made anew, the rest copied.
CASE_TIMES: Final = frozenset(
    {"submitted_at", "first_opened_at", "resolved_at", "closed_at", "deleted_at", "created_at", "updated_at"}
)
TASK_TIMES: Final = frozenset({"due_at", "created_at", "finished_at"})
TIMER_TIMES: Final = frozenset(
    {"running_since", "started_at", "stopped_at", "warned_50_at", "warned_75_at", "breached_at", "next_due_at"}
)
EVENT_TIMES: Final = frozenset({"occurred_at"})


class ScaleError(ValueError):
    """A size the data set cannot be made at."""


@dataclass(frozen=True)
class SizedDataset:
    """A loaded database: its DSN, the generated part (people, groups, open cases) and row counts."""

    url: str
    base: GeneratedDataset
    rows: dict[str, int]

    @property
    def cases(self) -> int:
        return self.rows["cases"]


def _copied(columns: tuple[str, ...], times: frozenset[str], special: dict[str, str]) -> tuple[str, str]:
    """The INSERT column list and the SELECT list of one table's copy (source alias ``s``, copy ``m``)."""
    names = [c for c in columns if c != "id" or "id" in special]
    select = [special.get(c, f"s.{c} - m.copy * $1::interval" if c in times else f"s.{c}") for c in names]
    return ", ".join(names), ", ".join(select)


def _new_id(old: str, copy: str) -> str:
    # Deterministic per (case, copy); the version and variant nibbles make it a well-formed
    # UUID v4 like the ones casegraph issues.
    digest = f"md5({old}::text || ':' || {copy})"
    return f"overlay(overlay({digest} placing '4' from 13 for 1) placing '8' from 17 for 1)::uuid"


CASE_NUMBER_SQL: Final = "'CS' || lpad((m.number)::text, greatest(7, length((m.number)::text)), '0')"  # as f'CS{n:07d}'


async def _drop_secondary_indexes(connection: asyncpg.Connection) -> list[str]:
    """Drop the copied tables' indexes that back no constraint; their definitions, to rebuild.

    Building an index once over a million rows is far cheaper than updating it row by row.
    """
    rows = await connection.fetch(
        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition"
        " FROM pg_index i WHERE i.indrelid = ANY($1::regclass[])"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        list(COPIED_TABLES),
    )
    for row in rows:
        await connection.execute(f"DROP INDEX {row['name']}")
    return [str(row["definition"]) for row in rows]


async def multiply_finished_cases(connection: asyncpg.Connection, extra: int, *, shift: timedelta = COPY_SHIFT) -> int:
    """Add ``extra`` cases copied from the finished ones already loaded; returns the copies made.

    Runs in one transaction: the counters and id sequences advance past the copies, so the
    servers number new cases and events after them. Foreign-key triggers are off while copying
    (``session_replication_role``; the rows are consistent by construction, the bench's tests
    check it), and the indexes that back no constraint are rebuilt at the end.
    """
    if extra < 0:
        raise ScaleError(f"cannot add {extra} cases")
    if extra == 0:
        return 0
    async with connection.transaction():
        await connection.execute("SET LOCAL session_replication_role = replica")
        await connection.execute("SET LOCAL maintenance_work_mem = '512MB'")
        finished = int(
            await connection.fetchval(
                "SELECT count(*) FROM cases WHERE status = ANY($1::text[]) AND deleted_at IS NULL", list(FINISHED)
            )
        )
        if finished == 0:
            raise ScaleError("the data set has no finished case to copy")
        copies = -(-extra // finished)
        numbered = int(await connection.fetchval("SELECT count(*) FROM cases"))
        # One row per copied case: which case, which copy, its new id and number.
        await connection.execute(
            f"""
            CREATE TEMP TABLE bench_copies ON COMMIT DROP AS
            WITH source AS (
                SELECT id, row_number() OVER (ORDER BY created_at, id) - 1 AS rank
                FROM cases WHERE status = ANY($1::text[]) AND deleted_at IS NULL
            ), plan AS (
                SELECT s.id AS old_id, k.copy, (k.copy - 1) * $2::bigint + s.rank AS position
                FROM source s CROSS JOIN generate_series(1, $3::int) AS k(copy)
            )
            SELECT old_id, copy, position, {CASE_NUMBER_START + numbered + 1} + position AS number,
                   {_new_id("old_id", "copy")} AS new_id
            FROM plan WHERE position < $4::bigint
            """,
            list(FINISHED),
            finished,
            copies,
            extra,
        )
        await connection.execute("CREATE UNIQUE INDEX ON bench_copies (old_id, copy)")
        await connection.execute("ANALYZE bench_copies")
        definitions = await _drop_secondary_indexes(connection)
        await _copy_rows(connection, shift)
        for definition in definitions:
            await connection.execute(definition)
        await _advance_counters(connection)
    return copies


async def _copy_rows(connection: asyncpg.Connection, shift: timedelta) -> None:
    plans = (
        ("cases", CASE_COLUMNS, CASE_TIMES, {"id": "m.new_id", "number": CASE_NUMBER_SQL}, "s.id", "m.position"),
        ("case_tasks", TASK_COLUMNS, TASK_TIMES, {"case_id": "m.new_id"}, "s.case_id", "m.position, s.id"),
        ("case_timers", TIMER_COLUMNS, TIMER_TIMES, {"case_id": "m.new_id"}, "s.case_id", "m.position, s.id"),
        (
            "case_events",
            EVENT_COLUMNS,
            EVENT_TIMES,
            {
                "case_id": "m.new_id",
                "sequence": "(SELECT max(sequence) FROM case_events)"
                " + row_number() OVER (ORDER BY m.position, s.sequence)",
            },
            "s.case_id",
            "m.position, s.sequence",
        ),
    )
    for table, columns, times, special, key, order in plans:
        names, select = _copied(columns, times, special)
        await connection.execute(
            f"INSERT INTO {table} ({names}) SELECT {select} FROM {table} s"
            f" JOIN bench_copies m ON m.old_id = {key} ORDER BY {order}",
            shift,
        )


async def _advance_counters(connection: asyncpg.Connection) -> None:
    for table in ("case_tasks", "case_timers"):
        await connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}) + 1, false)"
        )
    await connection.execute(
        "UPDATE counters SET value = $2 + (SELECT count(*) FROM cases) WHERE name = $1", CASE_NUMBER, CASE_NUMBER_START
    )
    await connection.execute(
        "UPDATE counters SET value = (SELECT max(sequence) FROM case_events) WHERE name = $1", EVENT_SEQUENCE
    )


async def count_rows(database_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(_asyncpg_url(database_url))
    try:
        tables = ("users", "assignment_groups", "group_memberships", "case_types", "sla_policies", *COPIED_TABLES)
        return {table: int(await connection.fetchval(f"SELECT count(*) FROM {table}")) for table in tables}
    finally:
        await connection.close()


def _asyncpg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def load_sized_dataset(database_url: str, cases: int, *, seed: int = DatasetSpec.seed) -> SizedDataset:
    """Load ``cases`` cases into a migrated, empty database: generated up to ``BASE_CASES``, copied above."""
    if cases < 1:
        raise ScaleError(f"a data set needs at least one case, not {cases}")
    base = await load_generated(database_url, DatasetSpec(cases=min(cases, BASE_CASES), seed=seed))
    if cases > BASE_CASES:
        connection = await asyncpg.connect(_asyncpg_url(database_url))
        try:
            await multiply_finished_cases(connection, cases - BASE_CASES)
            # Statistics and a visibility map, as autovacuum would leave them (and none of its
            # work left for a measurement).
            await connection.execute("VACUUM ANALYZE")
        finally:
            await connection.close()
    return SizedDataset(url=database_url, base=base, rows=await count_rows(database_url))


async def fresh_sized_database(pg: PrivatePostgres, cases: int, *, database: str = BENCH_DATABASE) -> SizedDataset:
    """A fresh database ``database`` on ``pg`` (dropped first if it exists), migrated, holding
    ``cases`` cases; its DSN is ``.url``. The entry point for any benchmark that needs a size."""
    await create_bench_database(pg, database)
    url = pg.database_url(database)
    await migrate(url)
    return await load_sized_dataset(url, cases)


def sized_database(pg: PrivatePostgres, cases: int, *, database: str = BENCH_DATABASE) -> SizedDataset:
    """``fresh_sized_database`` for synchronous callers."""
    return asyncio.run(fresh_sized_database(pg, cases, database=database))
