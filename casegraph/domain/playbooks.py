"""Playbooks: an ordered checklist per stage, and when open required steps hold a case back.

Pure: standard library only. A case type may define steps per stage; a case gets its own copy of
them when it is submitted. With enforcement on (per case type), a case cannot leave a stage while
a required step of that stage is open: the refusal names the step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from casegraph.domain import lifecycle
from casegraph.domain.enums import CaseAction, CaseStage, Relation, Workflow
from casegraph.domain.errors import transition_not_allowed, validation_failed
from casegraph.domain.lifecycle import State

# The stages a workflow passes through after submission, in order; steps live in these.
PLAYBOOK_STAGES: Final[Mapping[Workflow, tuple[CaseStage, ...]]] = {
    Workflow.PUBLIC_SERVICE: (CaseStage.INTAKE, CaseStage.REVIEW, CaseStage.PROCESS, CaseStage.DECISION),
    Workflow.CUSTOMER_SERVICE: (CaseStage.INTAKE, CaseStage.DECISION),
}
MAX_STEPS: Final = 100

# The checklist paces the staff's own progress forward. It never holds back an exit (closing or
# cancelling, by anyone), the requester rejecting a solution (the case goes back), closing a case
# as a duplicate, or anything the requester does: those are not the staff finishing a stage.
UNGATED_ACTIONS: Final = lifecycle.EXIT_ACTIONS | frozenset(
    {CaseAction.REJECT_SOLUTION, CaseAction.MARK_DUPLICATE, CaseAction.DELETE, CaseAction.RESTORE}
)
GATED_RELATIONS: Final = frozenset({Relation.ASSIGNEE, Relation.MANAGER, Relation.INSPECTOR})


@dataclass(frozen=True)
class StepDefinition:
    stage: CaseStage
    title: str
    required: bool = True


@dataclass(frozen=True)
class OpenStep:
    stage: CaseStage
    position: int
    title: str


def check_definition(workflow: Workflow, steps: Sequence[StepDefinition]) -> None:
    """Steps only in the stages the case type's workflow passes through."""
    if len(steps) > MAX_STEPS:
        raise validation_failed("steps", f"At most {MAX_STEPS} steps.")
    allowed = PLAYBOOK_STAGES[workflow]
    for index, step in enumerate(steps):
        if step.stage not in allowed:
            raise validation_failed(
                f"steps.{index}.stage",
                f"The {workflow.value} workflow has no {step.stage.value} stage for steps "
                f"(use {', '.join(s.value for s in allowed)}).",
            )


def numbered(steps: Iterable[StepDefinition]) -> list[tuple[int, StepDefinition]]:
    """Positions 1, 2, … within each stage, in the order given."""
    counters: dict[CaseStage, int] = {}
    result = []
    for step in steps:
        counters[step.stage] = counters.get(step.stage, 0) + 1
        result.append((counters[step.stage], step))
    return result


def is_gated(*, action: CaseAction, state: State, target: State, relations: frozenset[Relation]) -> bool:
    """Does leaving ``state`` for ``target`` by this action wait for the stage's required steps?"""
    if target[0] is state[0] or action in UNGATED_ACTIONS:
        return False
    return bool(relations & GATED_RELATIONS)


def refuse_if_open(stage: CaseStage, open_required: Sequence[OpenStep]) -> None:
    """TRANSITION_NOT_ALLOWED naming the open required steps of the stage being left."""
    if open_required:
        names = "; ".join(f'"{step.title}"' for step in open_required)
        raise transition_not_allowed(
            f"The {stage.value} stage cannot be left while required playbook steps are open: {names}."
        )
