"""Running one life-cycle action on one case, in the order lifecycle.md fixes."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from casegraph.domain import lifecycle
from casegraph.domain.commands import Command, NoInput
from casegraph.domain.enums import CaseAction, CaseStatus, TaskState
from casegraph.domain.errors import version_conflict
from casegraph.domain.lifecycle import State
from casegraph.domain.relations import Actor, relations_of
from casegraph.services.action_inputs import prepare
from casegraph.services.case_changes import ActionResult, StaleCase, commit_change, refuse_if_pinned, retries_exhausted
from casegraph.services.extensions import Transition, check_transition
from casegraph.services.publisher import Publisher
from casegraph.services.records import CaseRecord
from casegraph.services.routing import route_if_automatic
from casegraph.services.visibility import load_visible_case
from models import CaseTask, Survey

# A writer that loses the race re-reads and is judged again against the winner's result
# (lifecycle.md). Each lost race means another writer committed, so this terminates; the bound
# only guards against a bug turning it into a spin.
MAX_ATTEMPTS: Final = 1000
OPEN_TASK_STATES: Final = (TaskState.OPEN, TaskState.IN_PROGRESS)


@dataclass(frozen=True)
class ActionRequest:
    action: CaseAction
    case_id: str
    expected_version: int | None = None
    command: Command = field(default_factory=NoInput)


async def perform(
    *,
    actor: Actor,
    request: ActionRequest,
    now: datetime,
    publisher: Publisher,
    on_success: Callable[[ActionResult], Awaitable[None]] | None = None,
) -> ActionResult:
    """Run ``request`` as ``actor``: authorize, validate, check version and transition, commit.

    Raises DomainError for every expected refusal (nothing is written then). Publishes the
    recorded event only after the transaction committed.
    """
    include_deleted = request.action is CaseAction.RESTORE
    for _ in range(MAX_ATTEMPTS):
        case = await load_visible_case(actor, request.case_id, include_deleted=include_deleted)
        relations = relations_of(actor, case.parties())
        grant = lifecycle.authorize(request.action, relations, case.state)
        plan = await prepare(request.action, request.command, grant, actor, case)
        if request.expected_version is not None and request.expected_version != case.version:
            raise version_conflict(request.expected_version, case.version)
        target, event_type = lifecycle.transition(
            action=request.action,
            workflow=case.workflow,
            state=case.state,
            grant=grant,
            facts=await _facts(request.action, case),
        )
        await check_transition(Transition(case=case, action=request.action, target=target, actor=actor, now=now))
        changes = {**_state_changes(request.action, case, target, actor, now), **plan.changes}
        try:
            result = await commit_change(
                case=case,
                actor_id=actor.user_id,
                action=request.action,
                event_type=event_type,
                target=target,
                changes=changes,
                summary=plan.summary,
                now=now,
                early_effects=plan.early_effects(actor.user_id, now),
                side_effects=plan.side_effects(actor.user_id, now),
                on_success=on_success,
            )
        except StaleCase:
            await refuse_if_pinned(
                actor=actor,
                case_id=request.case_id,
                expected_version=request.expected_version,
                include_deleted=include_deleted,
            )
            continue
        await publisher.published([result.event])
        if plan.assignees:
            result = dataclasses.replace(result, users=plan.assignees)
        if request.action is CaseAction.SUBMIT:
            routed = await route_if_automatic(case=result.case, now=now, publisher=publisher)
            result = ActionResult(routed, result.event, result.extra)
        return result
    raise await retries_exhausted(
        actor=actor, case_id=request.case_id, expected_version=request.expected_version, include_deleted=include_deleted
    )


async def _facts(action: CaseAction, case: CaseRecord) -> lifecycle.Facts:
    """Only the guards this action has are worth a query."""
    guards = lifecycle.RULES[action].guards
    open_tasks = 0
    survey_submitted = False
    if lifecycle.Guard.TASKS_SETTLED in guards:
        open_tasks = await CaseTask.filter(case_id=case.id, state__in=OPEN_TASK_STATES).count()
    if lifecycle.Guard.NO_SURVEY_YET in guards:
        survey_submitted = await Survey.exists(case_id=case.id)
    return case.facts(open_tasks=open_tasks, survey_submitted=survey_submitted)


def _state_changes(action: CaseAction, case: CaseRecord, target: State, actor: Actor, now: datetime) -> dict[str, Any]:
    """Columns that follow from where the case goes, whatever the action's own input."""
    changes: dict[str, Any] = {}
    if target[1] is CaseStatus.AWAITING_INFO and case.status is not CaseStatus.AWAITING_INFO:
        changes.update(remembered_stage=case.stage, remembered_status=case.status)
    elif case.status is CaseStatus.AWAITING_INFO and target[1] is not CaseStatus.AWAITING_INFO:
        changes.update(remembered_stage=None, remembered_status=None)
    if action is CaseAction.SUBMIT:
        changes["submitted_at"] = now
    if target[1] is CaseStatus.OPEN and case.first_opened_at is None:
        changes["first_opened_at"] = now
    if target[1] is CaseStatus.RESOLVED and case.status is not CaseStatus.RESOLVED:
        changes["resolved_at"] = now
    if lifecycle.is_terminal(target[1]) and not lifecycle.is_terminal(case.status):
        changes["closed_at"] = now
    if action is CaseAction.ACCEPT_SOLUTION:
        changes["solution_accepted"] = True
    if action is CaseAction.DELETE:
        changes.update(deleted_at=now, deleted_by_id=actor.user_id)
    if action is CaseAction.RESTORE:
        changes.update(deleted_at=None, deleted_by_id=None)
    return changes
