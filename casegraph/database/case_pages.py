"""The page statement of ``Query.cases``: disjoint branches, each walked in index order, merged.

A single ``visible AND filter ORDER BY … LIMIT`` condition has no index that yields it in
order (it is an OR of paths), so the database reads and sorts every visible case for a page.
Here each branch (``services.visibility.visibility_branches``) takes its first ``limit`` rows in
the page's order — an index range walk when an index of ``0013_case_page_indexes`` matches the
branch — and the union of those is cut to ``limit`` in the same order: PostgreSQL plans it as
a Merge Append over the branches, SQLite as a merge of sorted subqueries (its compound SELECT
with an ORDER BY). The work is then the branches times the page, not the visible set.

Both ``list_cases`` and the compiled path run this statement, so their pages are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from casegraph.database.case_rows import select_and_converters
from casegraph.database.sql import Condition, Statement


def page_statement(
    statement: Statement,
    branches: Sequence[Condition],
    after: Condition | None,
    *,
    columns: Sequence[str],
    order_column: str,
    descending: bool,
    limit: int,
) -> str:
    """SELECT of ``columns`` of the first ``limit`` cases over ``branches`` (disjoint conditions),
    following ``after`` (the keyset condition) when given, ordered by ``order_column`` then id."""
    if not branches:
        raise ValueError("a page needs at least one branch")
    direction = "DESC" if descending else "ASC"
    order = f'ORDER BY "{order_column}" {direction},"id" {direction}'
    select = ",".join(f'"{column}"' for column in columns)
    parts = []
    for position, branch in enumerate(branches):
        where = f"({statement.condition(branch)})"
        if after is not None:
            where += f" AND ({statement.condition(after)})"
        own_limit = statement.param(limit)
        walk = f'SELECT {select} FROM "cases" WHERE {where} {order} LIMIT {own_limit}'
        if len(branches) == 1:
            return walk
        # SQLite takes no ORDER BY/LIMIT on a compound member itself: each is a subquery.
        parts.append(f'SELECT {select} FROM ({walk}) "b{position}"')
    return " UNION ALL ".join(parts) + f" {order} LIMIT {statement.param(limit)}"


async def page_rows(
    db: BaseDBAsyncClient,
    dialect: str,
    branches: Sequence[Condition],
    after: Condition | None,
    *,
    columns: tuple[str, ...],
    order_column: str,
    descending: bool,
    limit: int,
) -> list[dict[str, Any]]:
    """The page's rows as ``values(*columns)`` gives them (converted as Tortoise converts)."""
    statement = Statement(dialect)
    sql = page_statement(
        statement,
        branches,
        after,
        columns=columns,
        order_column=order_column,
        descending=descending,
        limit=limit,
    )
    _, rows = await db.execute_query(sql, statement.params)
    converters: list[Callable[[Any], Any]] = select_and_converters(dialect, columns)[1]
    return [{column: convert(row[i]) for i, (column, convert) in enumerate(zip(columns, converters))} for row in rows]
