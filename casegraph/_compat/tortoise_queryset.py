# Follows upstream: tortoise-orm 1.1.9, tortoise/queryset.py
# Follows upstream: pypika-tortoise 0.6.5, pypika_tortoise/queries.py
"""A Tortoise query set's connection and the SQL it would send, without running it.

``QuerySet`` chooses its connection and builds its pypika query in private methods
(``_choose_db``, ``_choose_db_if_not_chosen``, ``_make_query``) that run only when it is
awaited. The dialect helpers (``casegraph.database.sql``) render a visibility condition once and
reuse it; these functions are the only place that calls those methods.
"""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet, ValuesQuery


def connection_for(query: QuerySet[Any]) -> BaseDBAsyncClient:
    """The connection ``query`` would run on now: the surrounding transaction's, if any."""
    return query._choose_db()


def parameterized_sql(query: ValuesQuery[Any]) -> tuple[str, list[Any]]:
    """The SQL and parameters ``query`` would send, built as awaiting it builds them."""
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    return sql, list(params)
