"""The statements of a text search over cases (``cases(filter: {text})``), read through the
search index of ``0027_case_search`` — a GIN index on PostgreSQL, FTS5 on SQLite — not the cases.

The index yields the matching cases; the reader's visibility and the filter's other conditions
(a rendered ``Condition`` over ``cases``) are row filters on those, joined by primary key. The
order is: the case whose number was typed first, then relevance (``ts_rank``; ``bm25``), then the
most recently updated, then id — all four in the cursor, so pages follow one another exactly.
Reading costs the matches, not the table: a search that matches half the cases reads half.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from tortoise.backends.base.client import BaseDBAsyncClient

from casegraph.database.case_rows import select_and_converters
from casegraph.database.sql import POSTGRES, Condition, Statement
from casegraph.domain.search import SearchText

# What a constituent's search may match: everything but the work notes (SQLite's columns; on
# PostgreSQL the public vector holds the same).
PUBLIC_COLUMNS: Final = ("f_number", "f_title", "f_description", "f_comments")
# bm25 weights of f_number, f_title, f_description, f_comments, f_notes: as ts_rank's A, A, B, C, D.
_BM25: Final = "bm25(case_search_fts, 10.0, 10.0, 4.0, 2.0, 1.0)"


@dataclass(frozen=True, slots=True)
class SearchPosition:
    """Where a row stands in a search's order: what a search cursor holds."""

    exact: int
    rank: float
    updated_at: Any
    case_id: str


def _postgres_hits(
    statement: Statement, search: SearchText, condition: Condition, *, internal: bool, columns: tuple[str, ...]
) -> str:
    """The matches from the GIN index, each joined to its case by primary key (LATERAL: a
    parameterized lookup per match, never a scan of cases hashed against the matches, which the
    planner would otherwise pick for a reader whose visibility no index serves; ``OFFSET 0``
    keeps it from flattening either side into a plain join)."""
    vector = "s.staff_vector" if internal else "s.public_vector"
    query = f"to_tsquery('simple', casegraph_search_fold({statement.param(search.tsquery())}::text))"
    number = statement.param(search.number or "")
    inner = ",".join(f'"cases"."{column}" AS "{column}"' for column in {*columns, "number"})
    outer = ",".join(f'c."{column}" AS "{column}"' for column in columns)
    return (
        f'SELECT {outer}, CASE WHEN c."number" = {number} THEN 1 ELSE 0 END AS "search_exact", '
        f'm."search_rank" AS "search_rank" '
        f'FROM (SELECT s.case_id, ts_rank({vector}, {query})::float8 AS "search_rank" '
        f"FROM case_search s WHERE {vector} @@ {query} OFFSET 0) AS m "
        f'CROSS JOIN LATERAL (SELECT {inner} FROM "cases" WHERE "cases"."id" = m.case_id '
        f"AND ({statement.condition(condition)}) OFFSET 0) AS c"
    )


def _hits(
    statement: Statement, search: SearchText, condition: Condition, *, internal: bool, columns: tuple[str, ...]
) -> str:
    if statement.dialect == POSTGRES:
        return _postgres_hits(statement, search, condition, internal=internal, columns=columns)
    # FTS5 yields the matches; each one's case is then read by its key. Parameters are taken in
    # the order they appear in the text (SQLite numbers them by position).
    selected = ",".join(f'"cases"."{column}" AS "{column}"' for column in columns)
    exact = f'CASE WHEN "cases"."number" = {statement.param(search.number or "")} THEN 1 ELSE 0 END'
    expression = statement.param(search.fts5(None if internal else PUBLIC_COLUMNS))
    return (
        f'SELECT {selected}, {exact} AS "search_exact", -{_BM25} AS "search_rank" '
        "FROM case_search_fts JOIN case_search_keys k ON k.search_key = case_search_fts.rowid "
        f'JOIN "cases" ON "cases"."id" = k.case_id WHERE case_search_fts MATCH {expression} '
        f"AND ({statement.condition(condition)})"
    )


def _after(statement: Statement, position: SearchPosition, recency: Condition) -> str:
    exact = statement.param(position.exact)
    exact_again = statement.param(position.exact)
    rank = statement.param(position.rank)
    rank_again = statement.param(position.rank)
    return (
        f'("search_exact" < {exact} OR ("search_exact" = {exact_again} AND ("search_rank" < {rank} '
        f'OR ("search_rank" = {rank_again} AND ({statement.condition(recency)})))))'
    )


def page_sql(
    dialect: str,
    search: SearchText,
    condition: Condition,
    after: tuple[SearchPosition, Condition] | None,
    *,
    internal: bool,
    columns: tuple[str, ...],
    limit: int,
) -> tuple[str, list[Any]]:
    """A page's statement and parameters. ``after``: the cursor's position and its recency
    tie-break as a condition over ``updated_at`` and ``id``."""
    statement = Statement(dialect)
    hits = _hits(statement, search, condition, internal=internal, columns=columns)
    where = _after(statement, *after) if after is not None else "1 = 1"
    listed = ",".join(f'"{column}"' for column in columns)
    sql = (
        f'SELECT {listed}, "search_exact", "search_rank" FROM ({hits}) AS hits WHERE {where} '
        f'ORDER BY "search_exact" DESC, "search_rank" DESC, "updated_at" DESC, "id" DESC '
        f"LIMIT {statement.param(limit)}"
    )
    return sql, statement.params


async def search_rows(
    db: BaseDBAsyncClient,
    dialect: str,
    search: SearchText,
    condition: Condition,
    after: tuple[SearchPosition, Condition] | None,
    *,
    internal: bool,
    columns: tuple[str, ...],
    limit: int,
) -> list[tuple[dict[str, Any], SearchPosition]]:
    """The page's rows (as ``values(*columns)`` gives them) with their positions."""
    sql, params = page_sql(dialect, search, condition, after, internal=internal, columns=columns, limit=limit)
    _, rows = await db.execute_query(sql, params)
    converters: list[Callable[[Any], Any]] = select_and_converters(dialect, columns)[1]
    width = len(columns)
    found = []
    for row in rows:
        values = {column: convert(row[i]) for i, (column, convert) in enumerate(zip(columns, converters))}
        position = SearchPosition(int(row[width]), float(row[width + 1]), values["updated_at"], str(values["id"]))
        found.append((values, position))
    return found


async def search_count(
    db: BaseDBAsyncClient, dialect: str, search: SearchText, condition: Condition, *, internal: bool
) -> int:
    """How many visible cases of the condition match: the connection's total."""
    statement = Statement(dialect)
    hits = _hits(statement, search, condition, internal=internal, columns=("id",))
    _, rows = await db.execute_query(f"SELECT count(*) FROM ({hits}) AS hits", statement.params)
    return int(rows[0][0])
