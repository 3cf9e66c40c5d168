"""Finishing or cancelling one case task (work-order line); each is a recorded case change."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from tortoise.expressions import RawSQL
from tortoise.queryset import QuerySet

from casegraph._compat import tortoise_models, tortoise_queryset
from casegraph.database.sql import POSTGRES, dialect_of
from casegraph.domain import lifecycle
from casegraph.domain.enums import CaseAction, CaseEventType, Relation, TaskState
from casegraph.domain.errors import DomainError, not_found, permission_denied, transition_not_allowed, version_conflict
from casegraph.domain.relations import Actor, relations_of
from casegraph.domain.validation import clean_text, id_number
from casegraph.services.case_changes import ActionResult, StaleCase, commit_change
from casegraph.services.column_limits import max_value
from casegraph.services.publisher import Publisher
from casegraph.services.records import CaseRecord, EventRecord
from casegraph.services.visibility import load_visible_case
from models import CaseTask

MAX_ATTEMPTS: Final = 1000  # see case_actions.MAX_ATTEMPTS
TASK_MANAGERS: Final = frozenset({Relation.ASSIGNEE, Relation.MANAGER})


@dataclass(frozen=True)
class TaskRequest:
    task_id: str
    finish_as: TaskState  # IN_PROGRESS (start), DONE or CANCELLED
    text: str | None
    expected_version: int | None = None


# Which states each move leaves from, the action it records, and its text field (required?).
MOVES: Final[dict[TaskState, tuple[tuple[TaskState, ...], CaseAction, str | None, bool]]] = {
    TaskState.IN_PROGRESS: ((TaskState.OPEN,), CaseAction.START_TASK, None, False),
    TaskState.DONE: ((TaskState.OPEN, TaskState.IN_PROGRESS), CaseAction.COMPLETE_TASK, "note", False),
    TaskState.CANCELLED: ((TaskState.OPEN, TaskState.IN_PROGRESS), CaseAction.CANCEL_TASK, "reason", True),
}


def task_walks(assignee_id: str, states: list[TaskState], *, limit: int) -> list[QuerySet[CaseTask]]:
    """The statements ``tasks_to_do`` runs: each reads through the assignee's tasks in its states
    (migration 0021's ``(assignee_id, state, due_at)``), soonest due first and undated ones last,
    at most ``limit``, so the years of finished tasks behind them are not read.

    PostgreSQL: one walk per state. Its connections keep generic plans (casegraph/db.py), and
    for ``state IN ($2, $3)`` a generic plan reads the index by the assignee alone, filters the
    state row by row and sorts: every task the agent ever had. With ``state = $2`` the index
    yields the walk in due order and LIMIT stops it at the page. Its ascending order puts NULLs
    last already. SQLite plans each statement for its values and puts NULLs first, so there one
    statement, with ``due_at IS NULL`` leading the order (the order is the statement's own, so
    LIMIT cuts the page after it: a sort in Python after the LIMIT lost dated tasks)."""
    query = CaseTask.filter(assignee_id=assignee_id, case__deleted_at__isnull=True)
    if dialect_of(tortoise_queryset.connection_for(query)) == POSTGRES:
        wanted = list(dict.fromkeys(states))
        return [query.filter(state=state).order_by("due_at", "id").limit(max(0, limit)) for state in wanted]
    undated = RawSQL(f'"{tortoise_models.table_name(CaseTask)}"."due_at" IS NULL')
    ordered = query.filter(state__in=states).annotate(undated=undated).order_by("undated", "due_at", "id")
    return [ordered.limit(max(0, limit))]


async def tasks_to_do(assignee_id: str, states: list[TaskState], *, limit: int) -> list[CaseTask]:
    """The assignee's tasks in ``states`` (of cases not deleted), soonest due first and undated
    ones last, at most ``limit`` (the walks of ``task_walks`` merged)."""
    walks = [await walk for walk in task_walks(assignee_id, states, limit=limit)]
    if len(walks) == 1:
        return walks[0]
    merged = heapq.merge(*walks, key=lambda task: (task.due_at is None, task.due_at or _NO_DATE, task.id))
    return list(itertools.islice(merged, max(0, limit)))


_NO_DATE: Final = datetime.min.replace(tzinfo=UTC)


async def finish_task(
    *,
    actor: Actor,
    request: TaskRequest,
    now: datetime,
    publisher: Publisher,
    on_success: Callable[[ActionResult], Awaitable[None]] | None = None,
) -> ActionResult:
    """Start, finish or cancel a task: its assignee, the case's assigned agent or a manager."""
    sources, action, field, text_required = MOVES[request.finish_as]
    for _ in range(MAX_ATTEMPTS):
        task = await _task(request.task_id)
        try:
            case = await load_visible_case(actor, str(task.case_id), include_deleted=False)
        except DomainError:
            # A task of a case the actor may not see is a missing task: its id must not reveal the case.
            raise not_found("Task") from None
        relations = relations_of(actor, case.parties())
        if task.assignee_id != actor.user_id and not relations & TASK_MANAGERS:
            raise permission_denied("Only the task's assignee, the case's agent or a manager may do that.")
        text = clean_text(field, request.text, required=text_required) if field else None
        if request.expected_version is not None and request.expected_version != case.version:
            raise version_conflict(request.expected_version, case.version)
        if task.state not in sources:
            raise transition_not_allowed(f"The task is {task.state.value.lower().replace('_', ' ')}.")
        if lifecycle.is_terminal(case.status):
            raise transition_not_allowed("The case is closed.")

        async def write_task(_: CaseRecord, __: EventRecord, task_id: int = task.id, text: str | None = text) -> None:
            finished = request.finish_as is not TaskState.IN_PROGRESS
            values: dict[str, object] = {"state": request.finish_as}
            if finished:
                values.update(note=text, finished_at=now, finished_by_id=actor.user_id)
            updated = await CaseTask.filter(id=task_id, state__in=sources).update(**values)
            if updated != 1:
                raise StaleCase(task_id)

        try:
            result = await commit_change(
                case=case,
                actor_id=actor.user_id,
                action=action,
                event_type=CaseEventType.CASE_UPDATED,
                target=case.state,
                changes={},
                summary={"taskId": str(task.id), "title": task.title, "state": request.finish_as.value},
                now=now,
                side_effects=[write_task],
                on_success=_with_task(task.id, on_success),
            )
        except StaleCase:
            continue
        await publisher.published([result.event])
        return ActionResult(result.case, result.event, {"task_id": task.id})
    raise transition_not_allowed("The task kept changing; reload it and try again.")


def _with_task(
    task_id: int, on_success: Callable[[ActionResult], Awaitable[None]] | None
) -> Callable[[ActionResult], Awaitable[None]] | None:
    """Idempotent replays need the task back, so it goes into the stored result."""
    if on_success is None:
        return None

    async def store(result: ActionResult) -> None:
        await on_success(ActionResult(result.case, result.event, {"task_id": task_id}))

    return store


async def _task(task_id: str) -> CaseTask:
    number = id_number(task_id, max_value(CaseTask, "id"))
    task = await CaseTask.get_or_none(id=number) if number is not None else None
    if task is None:
        raise not_found("Task")
    return task
