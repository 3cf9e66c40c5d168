"""Single-table statements rendered once per shape, for the writes and reads every action makes.

Tortoise builds each query anew through pypika, which costs more than sending the same SQL as it
is (the README's Performance section has the measurement), and a case action sends several (the
case, the event, its SLA timers, the assignee). Here a statement over one model,
whose condition is equality on a fixed set of fields, is rendered once per (model, dialect,
fields) and sent with its values converted by each field's own ``to_db_value``, as Tortoise's
queries convert them; rows come back as model instances built as Tortoise builds them.
Anything else (expressions, joins, ``IN``) stays with Tortoise. What this needs of a model's
private ``_meta`` comes through ``casegraph._compat.tortoise_models``.

Statements run on the connection Tortoise would choose (``tortoise_models.connection_for``), so
they take part in the surrounding ``in_transaction()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Expression
from tortoise.models import Model

from casegraph._compat import tortoise_models
from casegraph.database.counters import next_value
from casegraph.database.sql import SQLITE, Unsupported, dialect_of

M = TypeVar("M", bound=Model)

_SELECT: Final = "select"
_UPDATE: Final = "update"
_INSERT: Final = "insert"
_rendered: dict[tuple[str, type[Model], str, tuple[str, ...], tuple[str, ...]], str] = {}
# Statements with more to their shape than assigned and matched fields (``select``, ``delete``).
_shaped: dict[tuple[Any, ...], str] = {}


def _placeholder(dialect: str, position: int) -> str:
    return "?" if dialect == SQLITE else f"${position}"


def _column(model: type[Model], field: str) -> str:
    try:
        return tortoise_models.columns(model)[field]
    except KeyError:
        raise Unsupported(f"{model.__name__}.{field} is not a column") from None


# (model, field) → the field's own conversion to a column value: looked up once, since every
# value of every statement here goes through it.
_to_db: dict[tuple[type[Model], str], Callable[[Any, Any], Any]] = {}


def _db_value(model: type[Model], field: str, value: Any) -> Any:
    convert: Callable[[Any, Any], Any] | None = _to_db.get((model, field))
    if convert is None:
        _column(model, field)
        found = tortoise_models.field(model, field)
        if found is None:  # a column always has its field; this keeps the refusal in our words
            raise Unsupported(f"{model.__name__}.{field} is not a field")
        convert = _to_db[(model, field)] = found.to_db_value
    if isinstance(value, (Expression, Model)):
        raise Unsupported(f"{model.__name__}.{field}: only plain values")
    # No instance, as Tortoise's own UPDATE passes none: auto_now fields must not set anything.
    return convert(value, cast(Any, None))


def _render(kind: str, model: type[Model], dialect: str, assigned: tuple[str, ...], matched: tuple[str, ...]) -> str:
    key = (kind, model, dialect, assigned, matched)
    sql = _rendered.get(key)
    if sql is not None:
        return sql
    table = tortoise_models.table_name(model)
    position = 0

    def next_placeholder() -> str:
        nonlocal position
        position += 1
        return _placeholder(dialect, position)

    if kind == _INSERT:
        columns = ",".join(f'"{_column(model, field)}"' for field in assigned)
        values = ",".join(next_placeholder() for _ in assigned)
        sql = f'INSERT INTO "{table}" ({columns}) VALUES ({values})'
    elif kind == _UPDATE:
        sets = ",".join(f'"{_column(model, field)}"={next_placeholder()}' for field in assigned)
        where = " AND ".join(f'"{_column(model, field)}"={next_placeholder()}' for field in matched)
        sql = f'UPDATE "{table}" SET {sets} WHERE {where}'
    else:
        columns = ",".join(f'"{column}"' for column in tortoise_models.columns(model).values())
        where = " AND ".join(f'"{_column(model, field)}"={next_placeholder()}' for field in matched)
        sql = f'SELECT {columns} FROM "{table}" WHERE {where}'
    _rendered[key] = sql
    return sql


def _connection(model: type[Model], *, for_write: bool) -> tuple[BaseDBAsyncClient, str]:
    db = tortoise_models.connection_for(model, for_write=for_write)
    return db, dialect_of(db)  # refuses dialects other than PostgreSQL and SQLite


async def fetch(model: type[M], where: Mapping[str, Any]) -> list[M]:
    """``model.filter(**where)`` for plain equality on columns: every row, in no particular order."""
    if not where:
        raise ValueError("fetch needs a condition")
    db, dialect = _connection(model, for_write=False)
    matched = tuple(where)
    sql = _render(_SELECT, model, dialect, (), matched)
    _, rows = await db.execute_query(sql, [_db_value(model, field, where[field]) for field in matched])
    return [tortoise_models.from_row(model, dict(row)) for row in rows]


async def fetch_one(model: type[M], where: Mapping[str, Any]) -> M | None:
    """``model.get_or_none(**where)`` where ``where`` names at most one row (a key)."""
    rows = await fetch(model, where)
    if len(rows) > 1:
        raise LookupError(f"{model.__name__}: more than one row matches {sorted(where)}")
    return rows[0] if rows else None


def _update_of(
    model: type[Model], where: Mapping[str, Any], values: Mapping[str, Any]
) -> tuple[BaseDBAsyncClient, str, tuple[str, ...], tuple[str, ...], list[Any]]:
    """What an UPDATE of ``values`` where ``where`` needs: the connection, its dialect, the columns
    assigned and matched, and the parameters in that order (refused for a key or a non-column)."""
    if not where or not values:
        raise ValueError("update needs a condition and values")
    db, dialect = _connection(model, for_write=True)
    assigned, matched = tuple(values), tuple(where)
    for field in assigned:
        found = tortoise_models.field(model, field)
        if found is None or found.pk:
            raise Unsupported(f"{model.__name__}.{field}: not a column that may be updated")
    params = [_db_value(model, field, values[field]) for field in assigned]
    params.extend(_db_value(model, field, where[field]) for field in matched)
    return db, dialect, assigned, matched, params


async def update(model: type[Model], where: Mapping[str, Any], values: Mapping[str, Any]) -> int:
    """``model.filter(**where).update(**values)`` for plain values: the number of rows changed."""
    db, dialect, assigned, matched, params = _update_of(model, where, values)
    sql = _render(_UPDATE, model, dialect, assigned, matched)
    changed, _ = await db.execute_query(sql, params)
    return int(changed)


async def update_returning(model: type[M], where: Mapping[str, Any], values: Mapping[str, Any]) -> list[M]:
    """``update`` that also returns the rows it changed, whole, as ``fetch`` returns them: one
    statement where a write and then a read of the same rows would be two."""
    db, dialect, assigned, matched, params = _update_of(model, where, values)
    key = ("update_returning", model, dialect, assigned, matched)
    sql = _shaped.get(key)
    if sql is None:
        columns = ",".join(f'"{column}"' for column in tortoise_models.columns(model).values())
        sql = _shaped[key] = f"{_render(_UPDATE, model, dialect, assigned, matched)} RETURNING {columns}"
    rows = await db.execute_query_dict(sql, params)
    return [tortoise_models.from_row(model, row) for row in rows]


async def insert(model: type[Model], values: Mapping[str, Any]) -> None:
    """One row with every column given (no defaults filled in, nothing read back): for tables
    whose key the caller supplies, like the event log's sequence."""
    missing = set(tortoise_models.columns(model)) - set(values)
    if missing:
        raise ValueError(f"{model.__name__}: no value for {sorted(missing)}")
    db, dialect = _connection(model, for_write=True)
    assigned = tuple(values)
    sql = _render(_INSERT, model, dialect, assigned, ())
    await db.execute_query(sql, [_db_value(model, field, values[field]) for field in assigned])


async def insert_generated(model: type[Model], values: Mapping[str, Any]) -> Any:
    """``model.create(**values)`` for a table whose key the database generates, with every other
    column given (no Python-side defaults filled in): the statement Tortoise sends on
    PostgreSQL, ``INSERT … RETURNING`` the key, without building an instance first. Returns the key."""
    key_field = tortoise_models.primary_key(model)
    missing = set(tortoise_models.columns(model)) - set(values) - {key_field}
    if missing or key_field in values:
        raise ValueError(f"{model.__name__}: no value for {sorted(missing)}" if missing else "the key is generated")
    db, dialect = _connection(model, for_write=True)
    assigned = tuple(values)
    sql_key = ("insert_generated", model, dialect, assigned)
    sql = _shaped.get(sql_key)
    if sql is None:
        returning = f' RETURNING "{_column(model, key_field)}"'
        sql = _shaped[sql_key] = _render(_INSERT, model, dialect, assigned, ()) + returning
    rows = await db.execute_query_dict(sql, [_db_value(model, field, values[field]) for field in assigned])
    return rows[0][_column(model, key_field)]


async def insert_numbered(model: type[Model], values: Mapping[str, Any], *, key: str, counter: str) -> int:
    """One row whose ``key`` is the next value of the named ``counter`` (``database.counters``);
    every other column given. Returns the value taken.

    On PostgreSQL the counter's bump and the insert are one statement: the counter's row lock,
    held until commit, is what orders the writers, so each round trip made while holding it is
    a round trip every other writer waits for. SQLite has no UPDATE inside WITH, and serializes
    its writers anyway: there it is the counter's UPDATE, then the insert.
    """
    given = {field: value for field, value in values.items() if field != key}
    missing = set(tortoise_models.columns(model)) - set(given) - {key}
    if missing:
        raise ValueError(f"{model.__name__}: no value for {sorted(missing)}")
    db, dialect = _connection(model, for_write=True)
    if dialect == SQLITE:
        taken = await next_value(counter)
        await insert(model, {key: taken, **given})
        return taken
    assigned = tuple(given)
    sql = _render_numbered(model, assigned, key)
    rows = await db.execute_query_dict(sql, [counter, *(_db_value(model, field, given[field]) for field in assigned)])
    return int(rows[0][_column(model, key)])


def _render_numbered(model: type[Model], assigned: tuple[str, ...], key: str) -> str:
    cache_key = ("numbered", model, key, assigned, ())
    sql = _rendered.get(cache_key)
    if sql is not None:
        return sql
    table = tortoise_models.table_name(model)
    key_column = _column(model, key)
    columns = ",".join(f'"{_column(model, field)}"' for field in (key, *assigned))
    # $1 is the counter's name; VALUES (not SELECT) so each parameter takes its column's type.
    # An upsert, so that the first use creates the row (from 0) as ``next_value`` does; it locks
    # the row as the plain UPDATE would.
    values = ",".join(f"${position}" for position in range(2, len(assigned) + 2))
    sql = (
        'WITH "next" AS (INSERT INTO "counters" ("name","value") VALUES ($1,1) ON CONFLICT ("name") DO UPDATE'
        ' SET "value"="counters"."value"+1 RETURNING "value") '
        f'INSERT INTO "{table}" ({columns}) VALUES ((SELECT "value" FROM "next"),{values}) RETURNING "{key_column}"'
    )
    _rendered[cache_key] = sql
    return sql


async def select(
    model: type[Model],
    fields: tuple[str, ...],
    where: Mapping[str, Any],
    *,
    null: tuple[str, ...] = (),
    order_by: tuple[str, ...] = (),
    for_update: bool = False,
) -> list[dict[str, Any]]:
    """``model.filter(**where, <null>__isnull=True).order_by(*order_by).values(*fields)`` (ascending
    order), ``for_update`` as ``select_for_update()``: each row as {field: value}, values as
    ``values()`` gives them. The SQL is the one Tortoise sends, without building it per call."""
    if not where or not fields:
        raise ValueError("select needs fields and a condition")
    db, dialect = _connection(model, for_write=for_update)
    matched = tuple(where)
    key = ("select", model, dialect, fields, matched, null, order_by, for_update)
    sql = _shaped.get(key)
    if sql is None:
        selected = ",".join(f'"{_column(model, field)}" "{field}"' for field in fields)
        conditions = [f'"{_column(model, field)}"={_placeholder(dialect, i)}' for i, field in enumerate(matched, 1)]
        conditions.extend(f'"{_column(model, field)}" IS NULL' for field in null)
        sql = f'SELECT {selected} FROM "{tortoise_models.table_name(model)}" WHERE {" AND ".join(conditions)}'
        if order_by:
            sql += " ORDER BY " + ",".join(f'"{_column(model, field)}" ASC' for field in order_by)
        # SQLite has no row locks (Tortoise leaves the clause out there too): its writers are serialized.
        if for_update and dialect != SQLITE:
            sql += " FOR UPDATE"
        _shaped[key] = sql
    _, rows = await db.execute_query(sql, [_db_value(model, field, where[field]) for field in matched])
    native = tortoise_models.native_columns(model)
    converters = [(field, None if field in native else tortoise_models.field(model, field)) for field in fields]
    return [
        {field: row[field] if found is None else found.to_python_value(row[field]) for field, found in converters}
        for row in rows
    ]


async def delete(
    model: type[Model], where: Mapping[str, Any], *, any_of: tuple[str, Sequence[Any]] | None = None
) -> int:
    """``model.filter(**where, <field>__in=values).delete()`` for ``any_of=(field, values)``: the rows deleted."""
    if not where:
        raise ValueError("delete needs a condition")
    db, dialect = _connection(model, for_write=True)
    matched = tuple(where)
    params = [_db_value(model, field, where[field]) for field in matched]
    listed: tuple[str, int] | None = None
    if any_of is not None:
        field, values = any_of
        if not values:
            raise ValueError("delete: an empty IN list matches nothing")
        listed = (field, len(values))
        params.extend(_db_value(model, field, value) for value in values)
    key = ("delete", model, dialect, matched, listed)
    sql = _shaped.get(key)
    if sql is None:
        conditions = [f'"{_column(model, field)}"={_placeholder(dialect, i)}' for i, field in enumerate(matched, 1)]
        if listed is not None:
            first = len(matched) + 1
            marks = ",".join(_placeholder(dialect, i) for i in range(first, first + listed[1]))
            conditions.append(f'"{_column(model, listed[0])}" IN ({marks})')
        sql = f'DELETE FROM "{tortoise_models.table_name(model)}" WHERE {" AND ".join(conditions)}'
        _shaped[key] = sql
    changed, _ = await db.execute_query(sql, params)
    return int(changed)
