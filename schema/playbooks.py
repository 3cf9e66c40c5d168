"""Playbooks: a case type's checklist per stage (ADMIN sets it), each case's copy with progress,
and ticking steps off (`completeStep` / `reopenStep`, each a recorded COMPLETE_STEP event)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial

import strawberry

from casegraph.domain.playbooks import PLAYBOOK_STAGES, StepDefinition
from casegraph.services import playbooks
from casegraph.services.case_changes import ActionResult
from casegraph.services.playbook_steps import StepRequest, mark_step
from casegraph.services.records import CaseRecord
from models import CaseStep as CaseStepRow
from models import PlaybookStep as PlaybookStepRow
from resolvers.feature_loaders import PlaybookByCaseType, StepsByCase
from resolvers.loaders import UserById
from resolvers.pipeline import run_case_change, run_mutation
from schema.context import Info
from schema.enums import CaseStage
from schema.inputs import EXPECTED_VERSION, IDEMPOTENCY_KEY
from schema.payloads import CaseTypePayload, refused
from schema.types import Case, CaseEvent, CaseType, User, UserError


@strawberry.type(description="One step of a case type's playbook.")
class PlaybookStep:
    stage: CaseStage
    position: int = strawberry.field(description="1, 2, … within its stage.")
    title: str
    required: bool


@strawberry.type(description="A case type's checklist: ordered steps per stage, copied onto each submitted case.")
class Playbook:
    enforce_required_steps: bool = strawberry.field(
        description="A case cannot leave a stage while required steps of that stage are open."
    )
    steps: list[PlaybookStep]


@strawberry.type(description="A step of a case's checklist and whether it is done.")
class CaseStep:
    id: strawberry.ID
    stage: CaseStage
    position: int
    title: str
    required: bool
    done: bool
    done_at: datetime | None
    _done_by_id: strawberry.Private[str | None]

    @strawberry.field(description="Who ticked the step off.")
    async def done_by(self, info: Info) -> User | None:
        if self._done_by_id is None:
            return None
        row = await info.context.loaders[UserById].load(self._done_by_id)
        return User.from_row(row) if row is not None else None

    @classmethod
    def from_row(cls, row: CaseStepRow) -> CaseStep:
        return cls(
            id=strawberry.ID(str(row.id)),
            stage=row.stage,
            position=row.position,
            title=row.title,
            required=row.required,
            done=row.done_at is not None,
            done_at=row.done_at,
            _done_by_id=row.done_by_id,
        )


@strawberry.type(description="Checklist progress of one stage of a case.")
class CasePlaybookStage:
    stage: CaseStage
    current: bool = strawberry.field(description="The case is in this stage now.")
    total: int
    done: int
    required_open: int = strawberry.field(description="Required steps not done yet.")
    steps: list[CaseStep]


@strawberry.type(description="A case's checklist with progress.")
class CasePlaybook:
    enforce_required_steps: bool
    total: int
    done: int
    required_open: int
    stages: list[CasePlaybookStage]


def _progress(steps: Sequence[CaseStep]) -> tuple[int, int, int]:
    return len(steps), sum(s.done for s in steps), sum(1 for s in steps if s.required and not s.done)


async def case_playbook(info: Info, record: CaseRecord) -> CasePlaybook | None:
    """``Case.playbook``: staff only; null when the case got no checklist."""
    if not info.context.sees_internal:
        return None
    rows = await info.context.loaders[StepsByCase].load(record.id)
    if not rows:
        return None
    definition = (
        await info.context.loaders[PlaybookByCaseType].load(record.case_type_id) if record.case_type_id else None
    )
    steps = [CaseStep.from_row(row) for row in rows]
    stages = []
    for stage in PLAYBOOK_STAGES[record.workflow]:
        of_stage = [s for s in steps if s.stage is stage]
        if of_stage:
            total, done, required_open = _progress(of_stage)
            stages.append(
                CasePlaybookStage(
                    stage=stage,
                    current=record.stage is stage,
                    total=total,
                    done=done,
                    required_open=required_open,
                    steps=of_stage,
                )
            )
    total, done, required_open = _progress(steps)
    return CasePlaybook(
        enforce_required_steps=definition is not None and definition.enforce_required_steps,
        total=total,
        done=done,
        required_open=required_open,
        stages=stages,
    )


async def case_type_playbook(info: Info, case_type_id: int) -> Playbook | None:
    """``CaseType.playbook``: the definition; staff only, like each case's checklist."""
    if not info.context.sees_internal:
        return None
    row = await info.context.loaders[PlaybookByCaseType].load(case_type_id)
    if row is None:
        return None
    steps = await PlaybookStepRow.filter(playbook_id=row.id)
    order = {stage: index for index, stage in enumerate(CaseStage)}
    steps.sort(key=lambda s: (order[s.stage], s.position))
    return Playbook(
        enforce_required_steps=row.enforce_required_steps,
        steps=[PlaybookStep(stage=s.stage, position=s.position, title=s.title, required=s.required) for s in steps],
    )


@strawberry.input
class PlaybookStepInput:
    stage: CaseStage
    title: str
    required: bool = True


@strawberry.input(
    description="Replace a case type's playbook; no steps removes it. Cases already submitted keep theirs."
)
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
        info,
        operation,
        input,
        refused=refused(CaseStepPayload),
        change=partial(mark_step, request=request),
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
                actor=actor,
                case_type_code=input.case_type_code,
                enforce_required_steps=input.enforce_required_steps,
                steps=steps,
                now=info.context.clock(),
            ),
            done=lambda row: CaseTypePayload(case_type=CaseType.from_row(row)),
        )

    @strawberry.mutation(description="Tick a playbook step off: the case's assigned agent or a manager of its group.")
    async def complete_step(self, info: Info, input: CompleteStepInput) -> CaseStepPayload:
        return await _mark(info, "completeStep", input, True)

    @strawberry.mutation(description="Reopen a playbook step that was ticked off.")
    async def reopen_step(self, info: Info, input: ReopenStepInput) -> CaseStepPayload:
        return await _mark(info, "reopenStep", input, False)
