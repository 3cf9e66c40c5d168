"""Appending to the case event log: one row per recorded change, sequenced in commit order
(the sequence is a counter of ``database.counters``)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from casegraph.database import statements
from casegraph.database.counters import EVENT_SEQUENCE, next_value
from casegraph.domain.enums import CaseAction, CaseEventType
from casegraph.domain.lifecycle import State
from casegraph.observability.request_context import current_request_id
from casegraph.services.records import EventRecord
from models import CaseEvent

_EVENT_FIELDS = fields(EventRecord)


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
