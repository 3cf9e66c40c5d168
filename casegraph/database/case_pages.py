"""The page statement of ``Query.cases``: disjoint branches, each walked in index order, merged.

A single ``visible AND filter ORDER BY … LIMIT`` condition has no index that yields it in
order (it is an OR of paths), so the database reads and sorts every visible case for a page.
Here each branch (``services.visibility.visibility_branches``) takes its first ``limit`` rows in
the page's order — an index range walk when an index of ``0013_case_page_indexes`` matches the
branch — and the union of those is cut to ``limit`` in the same order: PostgreSQL plans it as
a Merge Append over the branches, SQLite as a merge of sorted subqueries (its compound SELECT
with an ORDER BY). The work is then the branches times the page, not the visible set. The
filter's other conditions (a title's text among them) are row filters in each walk, which stops
at the page's end.

A branch that is one user's own cases (requester, inspector, task assignee, own drafts) is not
walked in order: it is fetched through that user's index and sorted, bounded by the user's
involvement. Left to itself the planner may instead walk a whole-table index in the
page's order, expecting the user's rows to come early — and read the table when they do not
(all of them excluded by an earlier branch, say). A fence keeps the fetch planned on its own:
``OFFSET 0`` on PostgreSQL, ``LIMIT -1`` on SQLite (neither flattens such a subquery).

Both ``list_cases`` and the compiled path run this statement, so their pages are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from casegraph.database.case_rows import select_and_converters
from casegraph.database.sql import POSTGRES, Condition, Statement


@dataclass(frozen=True, slots=True)
class PageBranch:
    """One disjoint part of the page's condition and how it is read."""

    condition: Condition
    # True: an index yields it in the page's order (walked, stopping at the page's end);
    # False: one user's own cases, fetched by that user's index and then sorted.
    index_ordered: bool


def page_statement(
    statement: Statement,
    branches: Sequence[PageBranch],
    refine: Condition | None,
    after: Condition | None,
    *,
    columns: Sequence[str],
    order_column: str,
    descending: bool,
    limit: int,
) -> str:
    """SELECT of ``columns`` of the first ``limit`` cases over ``branches`` (disjoint conditions;
    those not index-ordered further narrowed by ``refine``, the filter) that follow ``after``
    (the keyset condition) when given, ordered by ``order_column`` then id."""
    if not branches:
        raise ValueError("a page needs at least one branch")
    direction = "DESC" if descending else "ASC"
    order = f'ORDER BY "{order_column}" {direction},"id" {direction}'
    select = ",".join(f'"{column}"' for column in columns)
    parts = []
    fence = "OFFSET 0" if statement.dialect == POSTGRES else "LIMIT -1"
    for position, branch in enumerate(branches):
        path = f"({statement.condition(branch.condition)})"
        if branch.index_ordered:
            source, where = '"cases"', [path]
        else:
            # The filter and the cursor's range stay outside the fence: inside, they would offer
            # the planner a whole-table index again (the status's, the order column's).
            source, where = f'(SELECT * FROM "cases" WHERE {path} {fence}) "u"', []
            if refine is not None:
                where.append(f"({statement.condition(refine)})")
        if after is not None:
            where.append(f"({statement.condition(after)})")
        if where:
            source += f" WHERE {' AND '.join(where)}"
        own_limit = int(limit)
        walk = f"SELECT {select} FROM {source} {order} LIMIT {own_limit}"
        if len(branches) == 1:
            return walk
        # SQLite takes no ORDER BY/LIMIT on a compound member itself: each is a subquery.
        parts.append(f'SELECT {select} FROM ({walk}) "b{position}"')
    return " UNION ALL ".join(parts) + f" {order} LIMIT {int(limit)}"


async def page_rows(
    db: BaseDBAsyncClient,
    dialect: str,
    branches: Sequence[PageBranch],
    refine: Condition | None,
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
        refine,
        after,
        columns=columns,
        order_column=order_column,
        descending=descending,
        limit=limit,
    )
    _, rows = await db.execute_query(sql, statement.params)
    converters: list[Callable[[Any], Any]] = select_and_converters(dialect, columns)[1]
    return [{column: convert(row[i]) for i, (column, convert) in enumerate(zip(columns, converters))} for row in rows]
