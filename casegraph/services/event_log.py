"""Appending to the case event log: one row per recorded change, sequenced in commit order
(the sequence is a counter of ``database.counters``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casegraph.database import statements
from casegraph.database.counters import EVENT_SEQUENCE
from casegraph.domain.enums import CaseAction, CaseEventType
from casegraph.domain.lifecycle import State
from casegraph.observability.request_context import current_request_id
from casegraph.services.records import EventRecord
from models import CaseEvent


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
    fields: dict[str, Any] = {
        "case_id": case_id,
        "actor_id": actor_id,
        "type": event_type,
        "action": action,
        "from_stage": before[0] if before else None,
        "from_status": before[1] if before else None,
        "to_stage": after[0],
        "to_status": after[1],
        "version": version,
        "summary": summary,
        "occurred_at": now,
        "request_id": request_id if request_id is not None else current_request_id(),
    }
    # The sequence and the row in one statement (PostgreSQL): from here to commit every other
    # writer waits on the counter's row lock.
    sequence = await statements.insert_numbered(CaseEvent, fields, key="sequence", counter=EVENT_SEQUENCE)
    return EventRecord(sequence=sequence, **fields)
