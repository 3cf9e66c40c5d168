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
from casegraph.services.records import EventDraft, EventRecord
from models import CaseEvent


def draft_event(
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
) -> EventDraft:
    """The event a change will record, all but its sequence.

    ``request_id`` defaults to that of the request being served (none for timers and jobs), so
    an event can be found in the logs of the request that caused it.
    """
    return EventDraft(
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


async def append_drafted(draft: EventDraft) -> EventRecord:
    """Record ``draft``; must run inside the transaction that changed the case.

    The sequence and the row are one statement (PostgreSQL): from here to commit every other
    writer waits on the counter's row lock, so a writer appends as late as it can.
    """
    sequence = await statements.insert_numbered(CaseEvent, draft.columns(), key="sequence", counter=EVENT_SEQUENCE)
    return draft.recorded(sequence)


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
    """Record one event; must run inside the transaction that changed the case."""
    return await append_drafted(
        draft_event(
            case_id=case_id,
            actor_id=actor_id,
            event_type=event_type,
            action=action,
            before=before,
            after=after,
            version=version,
            summary=summary,
            now=now,
            request_id=request_id,
        )
    )
