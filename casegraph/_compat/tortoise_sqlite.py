# Follows upstream: tortoise-orm 1.1.9, tortoise/backends/sqlite/client.py
"""Rows changed on SQLite: the statement's own rows, not those its triggers wrote.

Tortoise's SQLite client answers "how many rows did this statement change" with the growth of
``total_changes``, which counts the rows written by triggers too. Since migration 0014 every
change of a case's group, status, stage or agency also upserts ``case_counts`` from a trigger, so
an UPDATE of one case reported 3 and every "exactly one row" check (the version check of
``commit_change``) read it as a lost race. PostgreSQL reports the statement's own rows; here the
cursor's ``rowcount`` (``sqlite3_changes()``, which leaves trigger rows out) gives the same.
``use_statement_changes`` swaps ``SqliteClient.execute_query`` (and so its transaction
wrapper's, a subclass) for the upstream one with only that count changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise.backends.sqlite.client import SqliteClient, translate_exceptions


@translate_exceptions
async def _execute_query(self: SqliteClient, query: str, values: list[Any] | None = None) -> tuple[int, Sequence[Any]]:
    query = query.replace("\x00", "'||CHAR(0)||'")
    async with self.acquire_connection() as connection:
        self.log.debug("%s: %s", query, values)
        start = connection.total_changes
        cursor = await connection.execute(query, values)
        try:
            rows = await cursor.fetchall()
            own = cursor.rowcount  # -1 for statements that change nothing (SELECT)
        finally:
            await cursor.close()
        changed = connection.total_changes - start
        if changed and own >= 0:
            changed = own
        return changed or len(rows), rows


def use_statement_changes() -> None:
    """Idempotent; called wherever a SQLite connection is configured (``casegraph.db``)."""
    SqliteClient.execute_query = _execute_query  # type: ignore[method-assign]
