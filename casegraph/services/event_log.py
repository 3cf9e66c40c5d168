"""Appending to the case event log: one row per recorded change, sequenced in commit order."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any


from casegraph.domain.enums import CaseAction, CaseEventType
from casegraph.domain.lifecycle import State
from casegraph.database import statements
from casegraph.observability.request_context import current_request_id
from casegraph.services.records import EventRecord
from models import CaseEvent, Counter

EVENT_SEQUENCE = "event_sequence"
CASE_NUMBER = "case_number"
CASE_NUMBER_START = 1000
_EVENT_FIELDS = fields(EventRecord)


async def next_value(name: str, *, start: int = 0) -> int:
    """Bump a named counter; call inside the writing transaction.

    One ``UPDATE … RETURNING`` (PostgreSQL, SQLite 3.35+): the row lock it takes until commit is
    what serializes appends, and the value it returns is the one this transaction wrote.
    """
    connection = Counter._choose_db(for_write=True)
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


async def append_event(
    *,
    case_id: str,
    actor_id: str | None,
    event_type: CaseEventType,
    action: CaseAction,
    before: State | None,
    after: State,
    version: int,
    summary: dict[str, Any],
    now: datetime,
    request_id: str | None = None,
) -> EventRecord:
    """Record one event; must run inside the transaction that changed the case.

    ``request_id`` defaults to that of the request being served (none for timers and jobs), so
    an event can be found in the logs of the request that caused it.
    """
    record = EventRecord(
        sequence=await next_value(EVENT_SEQUENCE),
        case_id=case_id,
        actor_id=actor_id,
        type=event_type,
        action=action,
        from_stage=before[0] if before else None,
        from_status=before[1] if before else None,
        to_stage=after[0],
        to_status=after[1],
        version=version,
        summary=summary,
        occurred_at=now,
        request_id=request_id if request_id is not None else current_request_id(),
    )
    # Written field by field, not through asdict: that deep-copies the summary for nothing.
    await statements.insert(CaseEvent, {field.name: getattr(record, field.name) for field in _EVENT_FIELDS})
    return record
