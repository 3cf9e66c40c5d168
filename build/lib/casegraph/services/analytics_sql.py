"""Writing analytics SQL once for SQLite and PostgreSQL.

The aggregates (window functions, conditional sums, common table expressions) are beyond Tortoise's
query builder, so they are SQL text. What differs between the two dialects lives here: placeholders
(``?`` against ``$1``), time parameters, and a column's time as epoch microseconds.

Epoch microseconds are exact integers on both backends. SQLite stores times as ISO text
(``2026-11-02 09:00:00.250000+00:00``): whole seconds come from ``strftime('%s')`` and the
microseconds from the text itself, because SQLite's date functions round to milliseconds and
``julianday`` carries floating-point error besides: either would move an event that happened
on (or a microsecond before) a bucket boundary into the wrong bucket. PostgreSQL's
``EXTRACT(EPOCH …)`` is an exact numeric.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from tortoise.connection import get_connection

from casegraph.domain.enums import CaseStatus

# A case is open from submission until it is resolved, closed or cancelled; a rejected solution
# opens it again. Backlog, open-case counts and workload all use this one set.
OPEN_STATUSES: Final = tuple(
    s for s in CaseStatus if s not in (CaseStatus.DRAFT, CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CANCELLED)
)
# Leaving the open set into one of these is a resolution (CANCELLED is a withdrawal instead).
RESOLVING_STATUSES: Final = (CaseStatus.RESOLVED, CaseStatus.CLOSED)
# Cases without submitted_at (rows written before it existed) were submitted when created.
SUBMITTED_AT: Final = "COALESCE(c.submitted_at, c.created_at)"
MICROSECONDS: Final = 1_000_000
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

_MARKER: Final = re.compile(r"@p(\d+)@")


def micros(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def epoch_us(when: datetime) -> int:
    """A time as integer microseconds since the epoch, like ``Statement.epoch_us`` of a column."""
    return micros(when - EPOCH)


def literals(statuses: Iterable[CaseStatus]) -> str:
    """An SQL list of status literals; the values are our own enum's, never user input."""
    return "(" + ", ".join(f"'{s.value}'" for s in statuses) + ")"


OPEN: Final = literals(OPEN_STATUSES)
RESOLVING: Final = literals(RESOLVING_STATUSES)
ENDED: Final = literals((*RESOLVING_STATUSES, CaseStatus.CANCELLED))


class Statement:
    """Collects the parameters of one statement while its text is written.

    Fragments return markers rather than placeholders, so they can be written in any order and
    reused; ``fetch`` numbers them in the order they appear in the final text.
    """

    def __init__(self) -> None:
        self.connection = get_connection("default")
        self.sqlite = self.connection.capabilities.dialect == "sqlite"
        self._values: list[Any] = []

    def value(self, value: Any) -> str:
        self._values.append(value)
        return f"@p{len(self._values) - 1}@"

    def time(self, when: datetime) -> str:
        """A time parameter comparable with a stored column (SQLite compares the ISO text)."""
        utc = when.astimezone(UTC)
        if self.sqlite:
            return self.value(utc.isoformat(" "))
        return f"CAST({self.value(utc)} AS TIMESTAMPTZ)"

    def values(self, items: Iterable[Any]) -> str:
        """``(p1, p2, …)`` for IN; an empty list matches nothing."""
        markers = [self.value(item) for item in items]
        return "(" + ", ".join(markers) + ")" if markers else "(NULL)"

    def epoch_us(self, column: str) -> str:
        """The column's time as integer microseconds since the epoch (see the module docstring)."""
        if not self.sqlite:
            return f"CAST(EXTRACT(EPOCH FROM {column}) * {MICROSECONDS} AS BIGINT)"
        # strftime rounds a fraction to milliseconds (59.9999995 s would become the next second),
        # so it reads the text without its fraction, which Python always writes as six digits.
        fraction = f"substr({column}, 20, 1) = '.'"
        whole = f"CASE WHEN {fraction} THEN substr({column}, 1, 19) || substr({column}, 27) ELSE {column} END"
        return (
            f"(CAST(strftime('%s', {whole}) AS INTEGER) * {MICROSECONDS}"
            f" + CASE WHEN {fraction} THEN CAST(substr({column}, 21, 6) AS INTEGER) ELSE 0 END)"
        )

    def render(self, sql: str) -> tuple[str, list[Any]]:
        """The text with the dialect's placeholders, and the parameters in placeholder order."""
        params: list[Any] = []
        numbers: dict[int, int] = {}

        def placeholder(match: re.Match[str]) -> str:
            index = int(match.group(1))
            if self.sqlite:
                params.append(self._values[index])
                return "?"
            if index not in numbers:
                params.append(self._values[index])
                numbers[index] = len(params)
            return f"${numbers[index]}"

        return _MARKER.sub(placeholder, sql), params

    async def fetch(self, sql: str) -> list[dict[str, Any]]:
        text, params = self.render(sql)
        rows: list[dict[str, Any]] = await self.connection.execute_query_dict(text, params)
        return rows
