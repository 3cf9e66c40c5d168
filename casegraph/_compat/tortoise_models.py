# Follows upstream: tortoise-orm 1.1.9, tortoise/models.py
# Follows upstream: tortoise-orm 1.1.9, tortoise/fields/base.py
"""What the fixed statements need to know of a Tortoise model, from its private ``_meta``.

Tortoise has no public API for a model's columns, its table, the connection a statement on it
would use, or for building an instance from a row the way its own queries do: those live on
``Model._meta`` (``MetaInfo``) and in ``Model._choose_db`` / ``Model._init_from_db``. The
database layer (``casegraph.database``), the compiled query path and the services reach them
only through these functions, so a Tortoise upgrade means re-reading the two files above.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields.base import Field
from tortoise.models import Model

M = TypeVar("M", bound=Model)


def connection_for(model: type[Model], *, for_write: bool = False) -> BaseDBAsyncClient:
    """The connection a query on ``model`` would run on now: the surrounding transaction's, if any."""
    return model._choose_db(for_write)


def default_connection(model: type[Model]) -> BaseDBAsyncClient:
    """The connection ``model`` is configured with (``MetaInfo.db``), inside a transaction its client."""
    return model._meta.db


def table_name(model: type[Model]) -> str:
    return model._meta.db_table


def columns(model: type[Model]) -> Mapping[str, str]:
    """Field name → column name, for every field stored in the model's table, in model order."""
    return model._meta.fields_db_projection


def primary_key(model: type[Model]) -> str:
    """The name of ``model``'s key field."""
    return model._meta.pk_attr


def field(model: type[Model], name: str) -> Field[Any] | None:
    """The field ``name`` of ``model``, or None if it has none of that name."""
    return model._meta.fields_map.get(name)


def native_columns(model: type[Model]) -> frozenset[str]:
    """Columns the driver already returns as Python values, so ``values()`` leaves them as they come.
    Set when Tortoise starts on a backend: it depends on the dialect."""
    return frozenset(entry[1] for entry in model._meta.db_native_fields)


def from_row(model: type[M], row: Mapping[str, Any]) -> M:
    """An instance built from a row keyed by column, as Tortoise's own queries build them (saved,
    not partial)."""
    return model._init_from_db(**row)


def is_saved(instance: Model) -> bool:
    """Whether ``instance`` was read from or written to the database already."""
    return bool(instance._saved_in_db)
