"""Playbooks (issue 4, *Playbooks*): a case type's checklist per stage, copied onto each case
when it is submitted, and the transition check that holds a case in a stage while required
steps of that stage are open (when the case type enforces it).

Ticking steps off is ``services/playbook_steps.py``; this module stays free of the change
pipeline so the composition root (``casegraph/composition.py``) can list its check and hook.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from casegraph.database import statements
from casegraph.domain.enums import CaseAction, CaseStatus
from casegraph.domain.playbooks import (
    OpenStep,
    StepDefinition,
    check_definition,
    is_gated,
    numbered,
    refuse_if_open,
)
from casegraph.domain.relations import Actor, relations_of
from casegraph.domain.validation import clean_title
from casegraph.services.admin import require_admin
from casegraph.services.intake import case_type_by_code
from casegraph.services.records import CaseRecord, EventDraft
from models import CaseStep, CaseType, Playbook, PlaybookStep

if TYPE_CHECKING:
    from casegraph.services.extensions import Transition


async def set_playbook(
    *,
    actor: Actor,
    case_type_code: str,
    enforce_required_steps: bool,
    steps: Sequence[StepDefinition],
    now: datetime,
) -> CaseType:
    """Replace a case type's playbook (no steps: none). Cases submitted from now on get it;
    cases already submitted keep the checklist they were given."""
    require_admin(actor)
    case_type = await case_type_by_code(case_type_code)
    cleaned = [
        StepDefinition(stage=step.stage, title=_title(index, step.title), required=step.required)
        for index, step in enumerate(steps)
    ]
    check_definition(case_type.workflow, cleaned)
    async with in_transaction():
        playbook = await Playbook.get_or_none(case_type_id=case_type.id)
        if not cleaned:
            if playbook is not None:
                await PlaybookStep.filter(playbook_id=playbook.id).delete()
                await Playbook.filter(id=playbook.id).delete()
            return case_type
        if playbook is None:
            playbook = await Playbook.create(
                case_type_id=case_type.id, enforce_required_steps=enforce_required_steps, created_at=now, updated_at=now
            )
        else:
            await Playbook.filter(id=playbook.id).update(enforce_required_steps=enforce_required_steps, updated_at=now)
            await PlaybookStep.filter(playbook_id=playbook.id).delete()
        await PlaybookStep.bulk_create(
            [
                PlaybookStep(
                    playbook_id=playbook.id,
                    stage=step.stage,
                    position=position,
                    title=step.title,
                    required=step.required,
                )
                for position, step in numbered(cleaned)
            ]
        )
    return case_type


async def copy_playbook_on_submission(before: CaseRecord, after: CaseRecord, event: EventDraft) -> None:
    """CHANGE_HOOK: a case filed as NEW (or a draft submitted) gets its case type's checklist."""
    submitted = (event.action is CaseAction.CREATE and after.status is CaseStatus.NEW) or (
        event.action is CaseAction.SUBMIT
    )
    if not submitted or after.case_type_id is None:
        return
    steps = await PlaybookStep.filter(playbook__case_type_id=after.case_type_id).order_by("stage", "position")
    if not steps or await CaseStep.exists(case_id=after.id):
        return
    await CaseStep.bulk_create(
        [
            CaseStep(
                case_id=after.id,
                stage=s.stage,
                position=s.position,
                title=s.title,
                required=s.required,
                created_at=event.occurred_at,
            )
            for s in steps
        ]
    )


async def check_required_steps(transition: Transition) -> None:
    """TRANSITION_CHECK: with enforcement on, a stage is not left while its required steps are open."""
    case = transition.case
    relations = relations_of(transition.actor, case.parties()) if transition.actor else frozenset()
    if not is_gated(action=transition.action, state=case.state, target=transition.target, relations=relations):
        return
    open_required = await statements.select(
        CaseStep,
        ("stage", "position", "title"),
        {"case_id": case.id, "stage": case.stage, "required": True},
        null=("done_at",),
        order_by=("position",),
    )
    if not open_required or not await enforced(case.case_type_id):
        return
    refuse_if_open(case.stage, [OpenStep(r["stage"], r["position"], r["title"]) for r in open_required])


async def enforced(case_type_id: int | None) -> bool:
    if case_type_id is None:
        return False
    return await Playbook.exists(case_type_id=case_type_id, enforce_required_steps=True)


def _title(index: int, title: str) -> str:
    cleaned = clean_title(title, required=True, field=f"steps.{index}.title")
    assert cleaned is not None
    return cleaned
