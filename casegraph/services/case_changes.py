"""The one way a case changes: conditional update, version + 1, one event, in one transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from casegraph.domain.enums import CaseAction, CaseEventType
from casegraph.domain.lifecycle import State
from casegraph.services.event_log import append_event
from casegraph.services.extensions import run_change_hooks
from casegraph.services.records import CASE_COLUMNS, CaseRecord, EventRecord
from models import Case

SideEffect = Callable[[CaseRecord, EventRecord], Awaitable[None]]


@dataclass(frozen=True)
class ActionResult:
    case: CaseRecord
    event: EventRecord
    extra: dict[str, Any] = field(default_factory=dict)


class StaleCase(Exception):
    """The case moved between our read and our write; nothing was written."""


async def commit_change(
    *,
    case: CaseRecord,
    actor_id: str | None,
    action: CaseAction,
    event_type: CaseEventType,
    target: State,
    changes: dict[str, Any],
    summary: dict[str, Any],
    now: datetime,
    side_effects: Sequence[SideEffect] = (),
    on_success: Callable[[ActionResult], Awaitable[None]] | None = None,
) -> ActionResult:
    """Apply ``changes`` if the case is still at ``case.version``; raise StaleCase otherwise.

    The UPDATE … WHERE version = v is the portable optimistic lock: of racing writers exactly one
    matches, on SQLite and PostgreSQL alike. Side effects (comments, tasks, survey) and the
    event are written in the same transaction, so a refused or failed change records nothing.
    """
    new_version = case.version + 1
    row_changes = {
        **changes,
        "stage": target[0],
        "status": target[1],
        "version": new_version,
        "updated_at": now,
    }
    async with in_transaction():
        updated = await Case.filter(id=case.id, version=case.version).update(**row_changes)
        if updated != 1:
            raise StaleCase(case.id)
        new_case = dataclasses.replace(case, **{k: v for k, v in row_changes.items() if k in CASE_COLUMNS})
        event = await append_event(
            case_id=case.id,
            actor_id=actor_id,
            event_type=event_type,
            action=action,
            before=case.state,
            after=target,
            version=new_version,
            summary=summary,
            now=now,
        )
        for effect in side_effects:
            await effect(new_case, event)
        await run_change_hooks(case, new_case, event)
        result = ActionResult(new_case, event)
        if on_success is not None:
            await on_success(result)
    return result
