"""Ticking a case's playbook step off, or reopening it: each a recorded case change
(action COMPLETE_STEP; ``details.done`` says which way)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from casegraph.domain import lifecycle
from casegraph.domain.desk_actions import STEP_KEEPERS
from casegraph.domain.enums import CaseAction, CaseEventType, CaseStatus
from casegraph.domain.errors import DomainError, not_found, permission_denied, transition_not_allowed, version_conflict
from casegraph.domain.relations import Actor, relations_of
from casegraph.domain.validation import id_number
from casegraph.services.case_changes import ActionResult, StaleCase, commit_change
from casegraph.services.column_limits import max_value
from casegraph.services.publisher import Publisher
from casegraph.services.records import CaseRecord, EventRecord
from casegraph.services.visibility import load_visible_case
from models import CaseStep

MAX_ATTEMPTS: Final = 1000  # see case_actions.MAX_ATTEMPTS


@dataclass(frozen=True)
class StepRequest:
    step_id: str
    done: bool  # True: complete the step; False: reopen it
    expected_version: int | None = None


async def mark_step(
    *,
    actor: Actor,
    request: StepRequest,
    now: datetime,
    publisher: Publisher,
    on_success: Callable[[ActionResult], Awaitable[None]] | None = None,
) -> ActionResult:
    """Complete or reopen a step: the case's assigned agent or a manager of its group."""
    for _ in range(MAX_ATTEMPTS):
        step = await _step(request.step_id)
        try:
            case = await load_visible_case(actor, str(step.case_id))
        except DomainError:
            # A step of a case the actor may not see is a missing step: its id must not reveal the case.
            raise not_found("Step") from None
        if not relations_of(actor, case.parties()) & STEP_KEEPERS:
            raise permission_denied("Only the case's assigned agent or a manager of its group may do that.")
        if request.expected_version is not None and request.expected_version != case.version:
            raise version_conflict(request.expected_version, case.version)
        if case.status is CaseStatus.DRAFT or lifecycle.is_terminal(case.status):
            raise transition_not_allowed(f"Playbook steps cannot change in {case.status.value}.")
        if (step.done_at is not None) == request.done:
            raise transition_not_allowed(f'The step "{step.title}" is already {"done" if request.done else "open"}.')

        async def write_step(_: CaseRecord, __: EventRecord, step_id: int = step.id) -> None:
            updated = await CaseStep.filter(id=step_id, done_at__isnull=request.done).update(
                done_at=now if request.done else None, done_by_id=actor.user_id if request.done else None
            )
            if updated != 1:
                raise StaleCase(step_id)

        try:
            result = await commit_change(
                case=case,
                actor_id=actor.user_id,
                action=CaseAction.COMPLETE_STEP,
                event_type=CaseEventType.CASE_UPDATED,
                target=case.state,
                changes={},
                summary={"stepId": str(step.id), "stage": step.stage.value, "title": step.title, "done": request.done},
                now=now,
                side_effects=[write_step],
                on_success=_with_step(step.id, on_success),
            )
        except StaleCase:
            continue
        await publisher.published([result.event])
        return ActionResult(result.case, result.event, {"step_id": step.id})
    raise transition_not_allowed("The step kept changing; reload it and try again.")


def _with_step(
    step_id: int, on_success: Callable[[ActionResult], Awaitable[None]] | None
) -> Callable[[ActionResult], Awaitable[None]] | None:
    """Idempotent replays need the step back, so it goes into the stored result."""
    if on_success is None:
        return None

    async def store(result: ActionResult) -> None:
        await on_success(ActionResult(result.case, result.event, {"step_id": step_id}))

    return store


async def _step(step_id: str) -> CaseStep:
    number = id_number(step_id, max_value(CaseStep, "id"))
    step = await CaseStep.get_or_none(id=number) if number is not None else None
    if step is None:
        raise not_found("Step")
    return step
