"""``Case.playbook`` and ``CaseType.playbook``: a case's checklist with progress, a case type's definition."""

from __future__ import annotations

from collections.abc import Sequence

from casegraph.domain.enums import CaseStage
from casegraph.domain.playbooks import PLAYBOOK_STAGES
from casegraph.services.records import CaseRecord
from models import PlaybookStep as PlaybookStepRow
from resolvers.feature_loaders import PlaybookByCaseType, StepsByCase
from schema.context import Info
from schema.types.playbooks import CasePlaybook, CasePlaybookStage, CaseStep, Playbook, PlaybookStep


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
