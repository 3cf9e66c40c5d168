"""``setPlaybook`` (ADMIN), ``completeStep`` and ``reopenStep``: decode, call one service through the runner."""

from __future__ import annotations

from functools import partial

from casegraph.domain.playbooks import StepDefinition
from casegraph.services import playbooks
from casegraph.services.case_changes import ActionResult
from casegraph.services.playbook_steps import StepRequest, mark_step
from models import CaseStep as CaseStepRow
from resolvers.pipeline import run_case_change, run_mutation
from schema.context import Info
from schema.inputs import CompleteStepInput, ReopenStepInput, SetPlaybookInput
from schema.payloads import CaseStepPayload, CaseTypePayload, refused
from schema.types.case import Case, CaseEvent
from schema.types.case_type import CaseType
from schema.types.playbooks import CaseStep


async def set_playbook(info: Info, input: SetPlaybookInput) -> CaseTypePayload:
    steps = [StepDefinition(stage=s.stage, title=s.title, required=s.required) for s in input.steps]
    return await run_mutation(
        info,
        refused=refused(CaseTypePayload),
        call=lambda actor: playbooks.set_playbook(
            actor=actor,
            case_type_code=input.case_type_code,
            enforce_required_steps=input.enforce_required_steps,
            steps=steps,
            now=info.context.clock(),
        ),
        done=lambda row: CaseTypePayload(case_type=CaseType.from_row(row)),
    )


async def complete_step(info: Info, input: CompleteStepInput) -> CaseStepPayload:
    return await _mark(info, "completeStep", input, True)


async def reopen_step(info: Info, input: ReopenStepInput) -> CaseStepPayload:
    return await _mark(info, "reopenStep", input, False)


async def _mark(info: Info, operation: str, input: CompleteStepInput | ReopenStepInput, done: bool) -> CaseStepPayload:
    request = StepRequest(step_id=str(input.step_id), done=done, expected_version=input.expected_version)

    async def payload(result: ActionResult) -> CaseStepPayload:
        row = await CaseStepRow.get(id=result.extra["step_id"])
        return CaseStepPayload(
            step=CaseStep.from_row(row), case=Case.from_record(result.case), event=CaseEvent.from_record(result.event)
        )

    return await run_case_change(
        info,
        operation,
        input,
        refused=refused(CaseStepPayload),
        change=partial(mark_step, request=request),
        done=payload,
    )
