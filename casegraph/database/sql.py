"""Dialect helpers: conditions rendered by Tortoise, statements written for PostgreSQL and SQLite.

Which cases an actor may see is decided in one place, ``services.visibility`` (a Tortoise
``Q``); SQL written here never restates it. It renders the same query set the resolvers run to
SQL and embeds its condition. Rendering through pypika is slow next to a dictionary lookup, so a
rendered condition is kept under a key that determines it (``CONDITIONS``): an actor and a filter without codes to look
up (``PageRequest.condition_key``), or an actor alone (``load_visible_case``) — ``visibility_filter``
and the filter's conditions are pure functions of those. Everything else (joins, aggregation,
order, limit) is plain SQL written here for PostgreSQL and SQLite.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from casegraph._compat.tortoise_queryset import parameterized_sql

POSTGRES: Final = "postgres"
SQLITE: Final = "sqlite"
_PREFIX: Final = 'SELECT "id" "id" FROM "cases" WHERE '
_NUMBERED: Final = re.compile(r"\$(\d+)")
_MISSING: Final = object()
T = TypeVar("T")


class Unsupported(Exception):
    """This SQL cannot answer the request (another dialect, another shape); Tortoise's will."""


@dataclass(frozen=True, slots=True)
class Condition:
    """A WHERE condition over ``cases`` and its parameters, numbered from 1 (PostgreSQL) or positional."""

    sql: str
    params: tuple[Any, ...]


def dialect_of(db: BaseDBAsyncClient) -> str:
    dialect = str(db.capabilities.dialect)
    if dialect not in (POSTGRES, SQLITE):
        raise Unsupported
    return dialect


def render_condition(query: QuerySet[Any]) -> Condition:
    """The WHERE condition Tortoise would send for ``query`` (a filter on cases, no order or limit)."""
    sql, params = parameterized_sql(query.values("id"))
    if not sql.startswith(_PREFIX):
        raise Unsupported
    return Condition(sql[len(_PREFIX) :], tuple(params))


class ConditionCache:
    """Rendered conditions by a key the caller vouches for (bounded, least recently used first out)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Condition] = OrderedDict()
        self._groups: OrderedDict[Hashable, object] = OrderedDict()

    def get(self, key: Hashable, query: QuerySet[Any]) -> Condition:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        found = render_condition(query)
        self._entries[key] = found
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return found

    def get_built(self, key: Hashable, build: Callable[[], T]) -> T:
        """As ``get``, for what ``build`` renders from several queries at once (a page's branches):
        one entry for them all, so that a request of many branches does not push out as many
        other requests' entries; ``build`` runs only when the key is not kept."""
        found = self._groups.get(key, _MISSING)
        if found is not _MISSING:
            self._groups.move_to_end(key)
            return cast(T, found)
        built = build()
        self._groups[key] = built
        if len(self._groups) > self.size:
            self._groups.popitem(last=False)
        return built


# Conditions rendered under keys that determine them (PageRequest.condition_key, an actor's visibility).
CONDITIONS: Final = ConditionCache()


class Statement:
    """Builds one statement from fragments, numbering parameters as the dialect wants."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.params: list[Any] = []

    def condition(self, condition: Condition) -> str:
        if self.dialect == SQLITE:
            self.params.extend(condition.params)
            return condition.sql
        offset = len(self.params)
        self.params.extend(condition.params)
        if not offset:
            return condition.sql
        return _NUMBERED.sub(lambda m: f"${int(m.group(1)) + offset}", condition.sql)

    def param(self, value: Any) -> str:
        self.params.append(value)
        return "?" if self.dialect == SQLITE else f"${len(self.params)}"

    def params_in(self, values: Sequence[Any]) -> str:
        """``IN (…)`` operands; the caller handles an empty list."""
        return ",".join(self.param(value) for value in values)


def nested_rows(dialect: str, columns: Sequence[str], source: str, where: str, order: str) -> str:
    """A scalar subquery: the rows of ``source`` in ``order`` — an array of records on PostgreSQL
    (asyncpg decodes them into typed tuples), a JSON array of arrays on SQLite; null for none."""
    if dialect == POSTGRES:
        return f"(SELECT array_agg(ROW({','.join(columns)}) ORDER BY {order}) FROM {source} WHERE {where})"
    aliased = ",".join(f"{column} AS c{i}" for i, column in enumerate(columns))
    listed = ",".join(f"c{i}" for i in range(len(columns)))
    return (
        f"(SELECT CASE WHEN count(*) THEN json_group_array(json_array({listed})) END FROM "
        f"(SELECT {aliased} FROM {source} WHERE {where} ORDER BY {order}))"
    )


def nested_groups(dialect: str, key: str, columns: Sequence[str], source: str, where: str, order: str) -> str:
    """A derived table (``key``, ``items``): per ``key``, the rows of ``source`` in ``order``, as
    ``nested_rows`` gives them. One pass over ``source`` for all keys, where a correlated subquery
    would scan it once per key when ``key`` has no index."""
    if dialect == POSTGRES:
        return (
            f'(SELECT {key} AS "key", array_agg(ROW({",".join(columns)}) ORDER BY {order}) AS "items" '
            f"FROM {source} WHERE {where} GROUP BY {key})"
        )
    aliased = ",".join(f"{column} AS c{i}" for i, column in enumerate(columns))
    listed = ",".join(f"c{i}" for i in range(len(columns)))
    # SQLite aggregates in the order rows arrive: sorted by key, then by ``order``.
    return (
        f'(SELECT "k" AS "key", json_group_array(json_array({listed})) AS "items" FROM '
        f'(SELECT {key} AS "k",{aliased} FROM {source} WHERE {where} ORDER BY {key},{order}) GROUP BY "k")'
    )
