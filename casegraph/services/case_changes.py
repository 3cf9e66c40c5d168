"""The one way a case changes: conditional update, version + 1, one event, in one transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from casegraph.database import statements
from casegraph.domain.enums import CaseAction, CaseEventType
from casegraph.domain.errors import DomainError, version_conflict
from casegraph.domain.lifecycle import State
from casegraph.domain.relations import Actor
from casegraph.services.event_log import append_drafted, draft_event
from casegraph.services.extensions import finish_change_hooks, prepare_change_hooks
from casegraph.services.records import CASE_COLUMNS, CaseRecord, EventRecord
from casegraph.services.visibility import load_visible_case
from models import Case, User

# Rows written beside the change: an early effect before the event's sequence is taken (it
# needs none), a side effect after (it names the event).
EarlyEffect = Callable[[CaseRecord], Awaitable[None]]
SideEffect = Callable[[CaseRecord, EventRecord], Awaitable[None]]


@dataclass(frozen=True)
class ActionResult:
    case: CaseRecord
    event: EventRecord
    extra: dict[str, Any] = field(default_factory=dict)
    # Users rows the change wrote and returned (an assignee), as committed: the payload shows
    # them without another read. Not part of what an idempotent repeat replays.
    users: tuple[User, ...] = ()


class StaleCase(Exception):
    """The case moved between our read and our write; nothing was written."""


async def refuse_if_pinned(
    *, actor: Actor, case_id: str, expected_version: int | None, include_deleted: bool = False
) -> None:
    """After a lost race: VERSION_CONFLICT if the caller pinned a version; otherwise return, to retry.

    lifecycle.md: the loser gets VERSION_CONFLICT when it sent expectedVersion, or is judged again
    against the winner's result.
    """
    if expected_version is not None:
        latest = await load_visible_case(actor, case_id, include_deleted=include_deleted)
        raise version_conflict(expected_version, latest.version)


async def retries_exhausted(
    *, actor: Actor, case_id: str, expected_version: int | None, include_deleted: bool = False
) -> DomainError:
    """The refusal for a writer that kept losing races (a bug or a storm): VERSION_CONFLICT."""
    latest = await load_visible_case(actor, case_id, include_deleted=include_deleted)
    return version_conflict(expected_version or latest.version - 1, latest.version)


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
    early_effects: Sequence[EarlyEffect] = (),
    side_effects: Sequence[SideEffect] = (),
    on_success: Callable[[ActionResult], Awaitable[None]] | None = None,
) -> ActionResult:
    """Apply ``changes`` if the case is still at ``case.version``; raise StaleCase otherwise.

    The UPDATE … WHERE version = v is the portable optimistic lock: of racing writers exactly one
    matches, on SQLite and PostgreSQL alike. Side effects (comments, tasks, survey) and the
    event are written in the same transaction, so a refused or failed change records nothing.

    The event's sequence is taken as late as it can be: the counter's row lock it takes is held
    until commit and every other writer waits for it. So first what needs no sequence (the
    update, ``early_effects``, each change hook's first phase), then the sequence and the event
    in one statement, then what names the event (``side_effects``, the hooks' second phase,
    ``on_success``), then commit.
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
        updated = await statements.update(Case, {"id": case.id, "version": case.version}, row_changes)
        if updated != 1:
            raise StaleCase(case.id)
        new_case = dataclasses.replace(case, **{k: v for k, v in row_changes.items() if k in CASE_COLUMNS})
        for early in early_effects:
            await early(new_case)
        draft = draft_event(
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
        steps = await prepare_change_hooks(case, new_case, draft)
        event = await append_drafted(draft)
        for effect in side_effects:
            await effect(new_case, event)
        await finish_change_hooks(steps, event)
        result = ActionResult(new_case, event)
        if on_success is not None:
            await on_success(result)
    return result
