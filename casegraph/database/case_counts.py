"""A total of cases from the maintained counts (``case_counts``, migration 0014) and per-user indexes.

``case_counts`` holds the submitted (not draft), not deleted cases per assignment group, status,
stage and partner agency, kept exact by triggers on ``cases``. A total is three terms that never
overlap:

- the counted cases of the scope's groups (or of every group), plus those referred to its agency
  outside those groups: a sum over ``case_counts``, whatever the size of ``cases``;
- the cases the user is party to (requester, assignee, inspector, task assignee) that the first
  term did not count: a union of index lookups, bounded by that user's own involvement;
- the user's own drafts: the partial index ``cases_draft_author``.

Which terms an actor has is the services' business (``services.visible_counts``); this module only
writes the SQL, with parameters in text order (``Statement``), as one scalar expression that can
stand inside a larger statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from tortoise.backends.base.client import BaseDBAsyncClient

from casegraph.database.sql import POSTGRES, Statement, dialect_of

# Columns of ``cases`` naming a user who is party to the case.
USER_COLUMNS: Final = frozenset({"requester_id", "assigned_to_id", "inspector_id"})
_DRAFT: Final = "'DRAFT'"  # a literal: the lookup walks cases_draft_author (author, status) of 0013


@dataclass(frozen=True, slots=True)
class CountScope:
    """The cases a total counts: the user's own drafts, and the submitted, not deleted cases that
    are in ``group_ids`` (any group when ``every_group``), referred to ``agency``, or name the
    user in one of ``user_columns`` (or as a task's assignee, with ``task_assignee``); all of them
    restricted to ``statuses`` and ``stages`` when given."""

    user_id: str
    every_group: bool = False
    group_ids: tuple[int, ...] = ()
    agency: str | None = None
    user_columns: tuple[str, ...] = ()
    task_assignee: bool = False
    statuses: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.user_columns) - USER_COLUMNS
        if unknown:
            raise ValueError(f"not a user column of cases: {sorted(unknown)}")


def total_sql(statement: Statement, scope: CountScope) -> str:
    """A scalar SQL expression: how many cases ``scope`` holds."""
    terms = [_counted(statement, scope)]
    if not scope.every_group and (scope.user_columns or scope.task_assignee):
        terms.append(_involved(statement, scope))
    terms.append(_drafts(statement, scope))
    return "(" + "+".join(terms) + ")"


async def count_total(db: BaseDBAsyncClient, scope: CountScope) -> int:
    statement = Statement(dialect_of(db))
    expression = total_sql(statement, scope)
    _, rows = await db.execute_query(f'SELECT {expression} AS "total"', statement.params)
    return int(rows[0][0])


def _counted(statement: Statement, scope: CountScope) -> str:
    where = []
    if not scope.every_group:
        reached = []
        if scope.group_ids:
            reached.append(f'"group_key" IN ({statement.params_in(scope.group_ids)})')
        if scope.agency is not None:
            agency = f'"agency"={statement.param(scope.agency)}'
            if scope.group_ids:
                agency += f' AND "group_key" NOT IN ({statement.params_in(scope.group_ids)})'
            reached.append(f"({agency})")
        if not reached:
            return "0"
        where.append("(" + " OR ".join(reached) + ")")
    where.extend(_filters(statement, scope))
    condition = " AND ".join(where) if where else "1=1"
    total = 'CAST(COALESCE(SUM("n"),0) AS BIGINT)' if statement.dialect == POSTGRES else 'COALESCE(SUM("n"),0)'
    return f'(SELECT {total} FROM "case_counts" WHERE {condition})'


def _involved(statement: Statement, scope: CountScope) -> str:
    """Submitted cases naming the user that the counted term left out; UNION counts each once."""
    branches = []
    for column in sorted(scope.user_columns):
        branches.append(f'SELECT "id" FROM "cases" WHERE "{column}"={statement.param(scope.user_id)} AND ')
        branches[-1] += _uncounted(statement, scope)
    if scope.task_assignee:
        user = statement.param(scope.user_id)
        branches.append(
            f'SELECT "id" FROM "cases" WHERE "id" IN (SELECT "case_id" FROM "case_tasks" WHERE "assignee_id"={user}) AND '
            + _uncounted(statement, scope)
        )
    return f'(SELECT count(*) FROM ({" UNION ".join(branches)}) "u")'


def _uncounted(statement: Statement, scope: CountScope) -> str:
    where = [f'"status"<>{_DRAFT}', '"deleted_at" IS NULL']
    if scope.group_ids:
        where.append(
            f'("assignment_group_id" IS NULL OR "assignment_group_id" NOT IN ({statement.params_in(scope.group_ids)}))'
        )
    if scope.agency is not None:
        where.append(f'("referred_agency" IS NULL OR "referred_agency"<>{statement.param(scope.agency)})')
    where.extend(_filters(statement, scope))
    return " AND ".join(where)


def _drafts(statement: Statement, scope: CountScope) -> str:
    where = [f'"author_id"={statement.param(scope.user_id)}', f'"status"={_DRAFT}', '"deleted_at" IS NULL']
    where.extend(_filters(statement, scope))
    return f'(SELECT count(*) FROM "cases" WHERE {" AND ".join(where)})'


def _filters(statement: Statement, scope: CountScope) -> list[str]:
    found = []
    for column, values in (("status", scope.statuses), ("stage", scope.stages)):
        if values:
            found.append(f'"{column}" IN ({statement.params_in(values)})')
    return found


async def fold_case_counts(db: BaseDBAsyncClient) -> None:
    """Moves the PostgreSQL shards of server processes that are gone into shard 0.

    A shard is a backend's pid: without folding, a count would keep a row per process that
    ever wrote it. Rows of live processes stay, so no writer waits; a pid reused since is
    folded all the same, which keeps the sums (its next write starts a new row).
    """
    if dialect_of(db) != POSTGRES:
        return  # SQLite counts in shard 0 only
    await db.execute_query(
        'WITH "gone" AS (DELETE FROM "case_counts" "c" WHERE "shard"<>0 AND NOT EXISTS '
        '(SELECT 1 FROM pg_stat_activity "a" WHERE "a"."pid"="c"."shard") '
        'RETURNING "group_key","status","stage","agency","n") '
        'INSERT INTO "case_counts" ("group_key","status","stage","agency","shard","n") '
        'SELECT "group_key","status","stage","agency",0,SUM("n") FROM "gone" GROUP BY 1,2,3,4 '
        'ON CONFLICT ("group_key","status","stage","agency","shard") DO UPDATE SET "n"="case_counts"."n"+EXCLUDED."n"'
    )


async def group_status_counts(db: BaseDBAsyncClient, group_id: int, *, excluded: Iterable[str]) -> dict[str, int]:
    """The group's counted (submitted, not deleted) cases per status, but for ``excluded``
    statuses; statuses with none are left out, as a ``GROUP BY`` over the cases would."""
    statement = Statement(dialect_of(db))
    where = [f'"group_key"={statement.param(group_id)}']
    left_out = tuple(excluded)
    if left_out:
        where.append(f'"status" NOT IN ({statement.params_in(left_out)})')
    _, rows = await db.execute_query(
        f'SELECT "status",SUM("n") FROM "case_counts" WHERE {" AND ".join(where)} GROUP BY "status" HAVING SUM("n")<>0',
        statement.params,
    )
    return {str(row[0]): int(row[1]) for row in rows}
