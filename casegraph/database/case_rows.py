"""One case's row by id within a visibility condition, without rebuilding the query each time.

``load_visible_case`` runs for every case mutation and lookup; Tortoise spent most of its time
building the ``values(*CASE_COLUMNS)`` query (the visibility ``Q`` resolved, every column
selected) before the database did anything. Here the condition is rendered once per
(dialect, key) by ``sql`` and the columns are converted with the functions Tortoise's
``values()`` uses (``to_python_value`` of each field, or nothing for the columns the driver
already returns as Python values), so the row is the one ``values(*columns)`` would give.

The caller names the columns (``services.records.CASE_COLUMNS``) and builds its record from the
row: this layer knows tables, not the services' records.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from tortoise.fields.base import Field
from tortoise.queryset import QuerySet

from casegraph._compat import tortoise_models, tortoise_queryset
from casegraph.database.sql import CONDITIONS, Statement, dialect_of
from models import Case

_converters: dict[tuple[str, frozenset[str], tuple[str, ...]], tuple[str, list[Callable[[Any], Any]]]] = {}


def select_and_converters(dialect: str, columns: tuple[str, ...]) -> tuple[str, list[Callable[[Any], Any]]]:
    """The select list and, as ``ValuesQuery.resolve_to_python_value``: native columns as they
    come, others converted."""
    # Which columns are native is set when Tortoise starts on a backend, hence part of the key.
    native = tortoise_models.native_columns(Case)
    key = (dialect, native, columns)
    found = _converters.get(key)
    if found is None:
        found = (
            ",".join(f'"{column}"' for column in columns),
            [(lambda value: value) if column in native else _field(column).to_python_value for column in columns],
        )
        _converters[key] = found
    return found


def _field(column: str) -> Field[Any]:
    found = tortoise_models.field(Case, column)
    if found is None:
        raise KeyError(column)  # as Tortoise's fields_map[column] would
    return found


async def case_row_by_id(
    visible: QuerySet[Case], *, condition_key: Hashable, case_id: str, columns: Sequence[str]
) -> dict[str, Any] | None:
    """``columns`` of the case ``case_id`` if ``visible`` holds it. ``condition_key`` must determine
    ``visible``'s condition entirely (the caller's rule is a pure function of it)."""
    db = tortoise_queryset.connection_for(visible)
    dialect = dialect_of(db)
    condition = CONDITIONS.get((dialect, condition_key), visible)
    statement = Statement(dialect)
    where = statement.condition(condition)
    key = statement.param(_field("id").to_db_value(case_id, Case))
    select, converters = select_and_converters(dialect, tuple(columns))
    _, rows = await db.execute_query(f'SELECT {select} FROM "cases" WHERE ({where}) AND "id"={key}', statement.params)
    if not rows:
        return None
    row = rows[0]
    return {column: convert(row[i]) for i, (column, convert) in enumerate(zip(columns, converters))}
