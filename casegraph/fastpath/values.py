"""Database values to response values, as Strawberry would serialise them, for both databases.

PostgreSQL (asyncpg) hands over typed values; SQLite text for times and UUIDs and integers for
booleans; JSON built by either database carries times as text in that database's format. Each
function here accepts all of those and returns what the normal path's serialisation gives: an
enum's member name, a time's ``isoformat()`` in UTC (Tortoise converts every time to UTC), a
UUID's text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Final

ZERO: Final = timedelta(0)

Decoder = Callable[[Any], Any]


def same(value: Any) -> Any:
    return value


def text_id(value: Any) -> str | None:
    return None if value is None else str(value)


def real(value: Any) -> float | None:
    return None if value is None else float(value)


def boolean(value: Any) -> bool:
    return bool(value)


def instant(value: Any) -> datetime | None:
    """A stored time as an aware datetime in UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.utcoffset() != ZERO:
        value = value.astimezone(UTC)
    return value  # type: ignore[no-any-return]


def iso(value: Any) -> str | None:
    """A stored time as the DateTime scalar serialises it."""
    when = instant(value)
    return None if when is None else when.isoformat()


class EnumNames:
    """Stored enum values to the member names GraphQL shows (an unknown value is an error)."""

    def __init__(self, enum: type[Enum]) -> None:
        self.names: dict[Any, str | None] = {member.value: member.name for member in enum}
        self.names[None] = None

    def __call__(self, value: Any) -> str | None:
        return self.names[value]


def enum_names(enum: type[Enum]) -> EnumNames:
    return EnumNames(enum)
