"""Playbooks: setting a case type's checklist per stage (ADMIN), and ticking a case's steps off
(`completeStep` / `reopenStep`, each a recorded COMPLETE_STEP event). The checklists themselves
are ``schema/types/playbooks.py``, resolved by ``resolvers/playbooks.py``."""

from __future__ import annotations

from functools import partial

import strawberry

from casegraph.domain.playbooks import StepDefinition
from casegraph.services import playbooks
from casegraph.services.case_changes import ActionResult
from casegraph.services.playbook_steps import StepRequest, mark_step
from models import CaseStep as CaseStepRow
from resolvers.pipeline import run_case_change, run_mutation
from schema.context import Info
from schema.enums import CaseStage
from schema.inputs import EXPECTED_VERSION, IDEMPOTENCY_KEY
from schema.payloads import CaseTypePayload, refused
from schema.types.case import Case, CaseEvent
from schema.types.case_type import CaseType
from schema.types.common import UserError
from schema.types.playbooks import CaseStep


@strawberry.input
class PlaybookStepInput:
    stage: CaseStage
    title: str
    required: bool = True


@strawberry.input(description="Replace a case type's playbook; no steps removes it. Cases already submitted keep theirs.")
class SetPlaybookInput:
    case_type_code: str
    steps: list[PlaybookStepInput]
    enforce_required_steps: bool = strawberry.field(
        default=True, description="Hold cases in a stage while its required steps are open."
    )


@strawberry.input
class CompleteStepInput:
    step_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class ReopenStepInput:
    step_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The result of completing or reopening a playbook step.")
class CaseStepPayload:
    step: CaseStep | None = None
    case: Case | None = None
    event: CaseEvent | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _mark(info: Info, operation: str, input: CompleteStepInput | ReopenStepInput, done: bool) -> CaseStepPayload:
    request = StepRequest(step_id=str(input.step_id), done=done, expected_version=input.expected_version)

    async def payload(result: ActionResult) -> CaseStepPayload:
        row = await CaseStepRow.get(id=result.extra["step_id"])
        return CaseStepPayload(
            step=CaseStep.from_row(row), case=Case.from_record(result.case), event=CaseEvent.from_record(result.event)
        )

    return await run_case_change(
        info, operation, input, refused=refused(CaseStepPayload), change=partial(mark_step, request=request),
        done=payload,
    )


@strawberry.type
class PlaybookMutation:
    @strawberry.mutation(description="Replace a case type's playbook (ADMIN).")
    async def set_playbook(self, info: Info, input: SetPlaybookInput) -> CaseTypePayload:
        steps = [StepDefinition(stage=s.stage, title=s.title, required=s.required) for s in input.steps]
        return await run_mutation(
            info,
            refused=refused(CaseTypePayload),
            call=lambda actor: playbooks.set_playbook(
                actor=actor, case_type_code=input.case_type_code,
                enforce_required_steps=input.enforce_required_steps, steps=steps, now=info.context.clock(),
            ),
            done=lambda row: CaseTypePayload(case_type=CaseType.from_row(row)),
        )

    @strawberry.mutation(description="Tick a playbook step off: the case's assigned agent or a manager of its group.")
    async def complete_step(self, info: Info, input: CompleteStepInput) -> CaseStepPayload:
        return await _mark(info, "completeStep", input, True)

    @strawberry.mutation(description="Reopen a playbook step that was ticked off.")
    async def reopen_step(self, info: Info, input: ReopenStepInput) -> CaseStepPayload:
        return await _mark(info, "reopenStep", input, False)


