"""What a column can hold, read from the models: the limits lookups check keys against.

Read from the models rather than repeated as numbers, so a migration that widens a column
widens the lookups with it (``casegraph.domain.validation.lookup_key`` and ``id_number``).
"""

from __future__ import annotations

from tortoise.fields import CharField
from tortoise.models import Model


def max_length(model: type[Model], field: str) -> int:
    """The length of a text column (``CharField``)."""
    column = model._meta.fields_map[field]
    if not isinstance(column, CharField):
        raise TypeError(f"{model.__name__}.{field} is not a CharField")
    return int(column.max_length)


def max_value(model: type[Model], field: str) -> int:
    """The largest value of an integer column (``IntField``: 2**31 - 1, ``BigIntField``: 2**63 - 1)."""
    return int(model._meta.fields_map[field].constraints["le"])
