"""What a column can hold, read from the models: the limits lookups check keys against.

Read from the models rather than repeated as numbers, so a migration that widens a column
widens the lookups with it (``casegraph.domain.validation.lookup_key`` and ``id_number``).
"""

from __future__ import annotations

from typing import Any

from tortoise.fields import CharField
from tortoise.fields.base import Field
from tortoise.models import Model

from casegraph._compat import tortoise_models


def max_length(model: type[Model], field: str) -> int:
    """The length of a text column (``CharField``)."""
    column = _field(model, field)
    if not isinstance(column, CharField):
        raise TypeError(f"{model.__name__}.{field} is not a CharField")
    return int(column.max_length)


def max_value(model: type[Model], field: str) -> int:
    """The largest value of an integer column (``IntField``: 2**31 - 1, ``BigIntField``: 2**63 - 1)."""
    return int(_field(model, field).constraints["le"])


def _field(model: type[Model], field: str) -> Field[Any]:
    found = tortoise_models.field(model, field)
    if found is None:
        raise KeyError(f"{model.__name__} has no field {field!r}")
    return found
