"""One case's record by id within a visibility condition, without rebuilding the query each time.

``load_visible_case`` runs for every case mutation and lookup; Tortoise spent ~1 ms building its
``values(*CASE_COLUMNS)`` query (the visibility ``Q`` resolved, 43 columns selected) before the
database did anything. Here the condition is rendered once per (dialect, key) by ``sql`` and the
columns are converted with the functions Tortoise's ``values()`` uses (``to_python_value`` of each
field, or nothing for the columns the driver already returns as Python values), so the record is
the one ``CaseRecord.from_row(values(...))`` would give.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Final

from tortoise.queryset import QuerySet

from casegraph.fastpath.sql import CONDITIONS, Statement, dialect_of
from casegraph.services.records import CASE_COLUMNS, CaseRecord
from models import Case

_SELECT: Final = ",".join(f'"{column}"' for column in CASE_COLUMNS)
_converters: dict[tuple[str, frozenset[str]], list[Callable[[Any], Any]]] = {}


def _columns_converters(dialect: str) -> list[Callable[[Any], Any]]:
    """As ``ValuesQuery.resolve_to_python_value``: native columns as they come, others converted."""
    meta = Case._meta
    native = frozenset(entry[1] for entry in meta.db_native_fields)
    key = (dialect, native)
    found = _converters.get(key)
    if found is None:
        found = [
            (lambda value: value) if column in native else meta.fields_map[column].to_python_value
            for column in CASE_COLUMNS
        ]
        _converters[key] = found
    return found


async def case_record_by_id(visible: QuerySet[Case], *, condition_key: Hashable, case_id: str) -> CaseRecord | None:
    """The case ``case_id`` if ``visible`` holds it. ``condition_key`` must determine ``visible``'s
    condition entirely (the caller's rule is a pure function of it)."""
    db = visible._choose_db()
    dialect = dialect_of(db)
    condition = CONDITIONS.get((dialect, condition_key), visible)
    statement = Statement(dialect)
    where = statement.condition(condition)
    key = statement.param(Case._meta.fields_map["id"].to_db_value(case_id, Case))
    _, rows = await db.execute_query(f'SELECT {_SELECT} FROM "cases" WHERE ({where}) AND "id"={key}', statement.params)
    if not rows:
        return None
    converters = _columns_converters(dialect)
    row = rows[0]
    return CaseRecord.from_row({column: convert(row[i]) for i, (column, convert) in enumerate(zip(CASE_COLUMNS,
                                                                                                     converters))})
