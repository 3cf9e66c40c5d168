"""Named counters (event sequence, case numbers): one row each, bumped inside the writing
transaction so that values follow commit order."""

from __future__ import annotations

from casegraph._compat.tortoise_models import connection_for
from models import Counter

EVENT_SEQUENCE = "event_sequence"
CASE_NUMBER = "case_number"
CASE_NUMBER_START = 1000


async def next_value(name: str, *, start: int = 0) -> int:
    """Bump a named counter; call inside the writing transaction.

    One ``UPDATE … RETURNING`` (PostgreSQL, SQLite 3.35+): the row lock it takes until commit is
    what serializes appends, and the value it returns is the one this transaction wrote.
    """
    connection = connection_for(Counter, for_write=True)
    placeholder = "?" if connection.capabilities.dialect == "sqlite" else "$1"
    rows = await connection.execute_query_dict(
        f'UPDATE "counters" SET "value"="value"+1 WHERE "name"={placeholder} RETURNING "value"', [name]
    )
    if not rows:
        # First use: create the row. A concurrent creator makes this fail with an integrity
        # error, which aborts the transaction; the caller's retry then finds the row.
        await Counter.create(name=name, value=start + 1)
        return start + 1
    return int(rows[0]["value"])


async def ensure_counters() -> None:
    """Create the counter rows up front so the first concurrent writers never race to insert."""
    for name, start in ((EVENT_SEQUENCE, 0), (CASE_NUMBER, CASE_NUMBER_START)):
        await Counter.get_or_create(name=name, defaults={"value": start})
