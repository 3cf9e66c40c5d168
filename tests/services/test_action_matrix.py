"""The role × action × status matrix, generated from ``lifecycle.RULES`` and ``lifecycle.STATES``.

Every workflow, every state of it (plus a few situations guards care about), every action but
RESTORE, every persona. The expected verdict is computed here from the table's data (grants,
workflows, guards, targets) without calling ``decide``/``authorize``/``transition``, and each
cell is run through ``services.case_actions.perform`` on a freshly inserted case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import pytest

from casegraph.domain import commands, lifecycle
from casegraph.domain.enums import (
    CaseAction,
    CaseEventType,
    CaseStage,
    CaseStatus,
    ErrorCode,
    Relation,
    ResolutionCode,
    Workflow,
)
from casegraph.domain.errors import DomainError
from casegraph.domain.lifecycle import Facts, Guard, Rule, State, Target
from casegraph.domain.relations import relations_of
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.records import EVENT_COLUMNS, CaseRecord, EventRecord
from models import CaseEvent, CaseTask
from tests.helpers import FakeClock, RecordingPublisher, World, case_row, event_count, insert_case

S, T, R = CaseStage, CaseStatus, Relation

CASE_TYPE_OF: Final[Mapping[Workflow, str]] = {
    Workflow.PUBLIC_SERVICE: "POTHOLE",
    Workflow.CUSTOMER_SERVICE: "QUESTION",
}
# Where an AWAITING_INFO case was asked from (PROCESS deliberately not the fallback state).
ASKED_FROM: Final[Mapping[CaseStage, State]] = {
    S.INTAKE: (S.INTAKE, T.OPEN),
    S.REVIEW: (S.REVIEW, T.OPEN),
    S.PROCESS: (S.PROCESS, T.WORK_ASSIGNMENT_IN_PROGRESS),
}

# Every case is requested (and authored) by "requester", assigned to "agent" and inspected by
# "field_agent"; these are the relations each persona then has to it.
RELATIONS: Final[Mapping[str, frozenset[Relation]]] = {
    "requester": frozenset({R.REQUESTER, R.AUTHOR}),
    "agent": frozenset({R.ASSIGNEE, R.GROUP_AGENT}),
    "other_agent": frozenset({R.GROUP_AGENT}),
    "manager": frozenset({R.MANAGER, R.GROUP_AGENT}),
    "field_agent": frozenset({R.INSPECTOR}),
    "admin": frozenset({R.ADMIN}),
}
INVISIBLE: Final = ("outsider_agent", "outsider_manager", "other_constituent", "other_field_agent")
PERSONAS: Final = (*RELATIONS, *INVISIBLE)
AUTHOR: Final = "requester"

ACTIONS: Final = tuple(action for action in lifecycle.RULES if action is not CaseAction.RESTORE)


@dataclass(frozen=True)
class Situation:
    """A case in one state of one workflow, with the facts its guards look at."""

    workflow: Workflow
    state: State
    solution_accepted: bool = False
    open_tasks: int = 0
    label: str = ""

    @property
    def remembered(self) -> State | None:
        return ASKED_FROM[self.state[0]] if self.state[1] is T.AWAITING_INFO else None

    @property
    def id(self) -> str:
        name = f"{self.workflow.value}:{self.state[0].value}/{self.state[1].value}"
        return f"{name}[{self.label}]" if self.label else name


def _situations() -> list[Situation]:
    found: list[Situation] = []
    for workflow, states in lifecycle.STATES.items():
        for state in states:
            found.append(Situation(workflow, state))
            if state[1] is T.CLOSED:
                found.append(Situation(workflow, state, solution_accepted=True, label="after ACCEPT_SOLUTION"))
            if state[1] is T.WORK_ASSIGNMENT_IN_PROGRESS:
                found.append(Situation(workflow, state, open_tasks=1, label="a task open"))
    return found


SITUATIONS: Final = tuple(_situations())
CELLS: Final = [(situation, action) for situation in SITUATIONS for action in ACTIONS]


@dataclass(frozen=True)
class Expected:
    code: ErrorCode | None = None
    to: State | None = None
    event_type: CaseEventType | None = None

    @property
    def allowed(self) -> bool:
        return self.code is None


def _resolve(to: Any, situation: Situation) -> State:
    if to is Target.SAME:
        return situation.state
    if to is Target.AWAITING_IN_STAGE:
        return (situation.state[0], T.AWAITING_INFO)
    if to is Target.REMEMBERED:
        assert situation.remembered is not None
        return situation.remembered
    if isinstance(to, tuple):
        return to
    assert isinstance(to, Mapping)
    resolved: State = to[situation.workflow]
    return resolved


def _guard_holds(guard: Guard, situation: Situation) -> bool:
    # Inserted cases have a title and a case type, are not deleted and have no survey.
    holds = {
        Guard.SUBMITTABLE: True,
        Guard.TASKS_SETTLED: situation.open_tasks == 0,
        Guard.SOLUTION_ACCEPTED: situation.solution_accepted,
        Guard.NO_SURVEY_YET: True,
        Guard.DELETED: False,
    }
    return holds[guard]


def _event_type(rule: Rule, before: State, after: State) -> CaseEventType:
    if rule.event_type is not None:
        return rule.event_type
    return CaseEventType.CASE_TRANSITIONED if after != before else CaseEventType.CASE_UPDATED


def visible_to(persona: str, situation: Situation) -> bool:
    if situation.state[1] is T.DRAFT:
        return persona == AUTHOR
    return persona in RELATIONS


def expected(persona: str, situation: Situation, action: CaseAction) -> Expected:
    """The verdict of the table for this cell, read straight off the table's data."""
    if not visible_to(persona, situation):
        return Expected(ErrorCode.NOT_FOUND)
    relations = RELATIONS[persona]
    rule = lifecycle.RULES[action]
    mine = [grant for grant in rule.grants if grant.who & relations]
    if not mine:
        return Expected(ErrorCode.PERMISSION_DENIED)
    if situation.workflow not in rule.workflows:
        return Expected(ErrorCode.TRANSITION_NOT_ALLOWED)
    applicable = [grant for grant in mine if situation.state in grant.frm]
    if not applicable:
        return Expected(ErrorCode.TRANSITION_NOT_ALLOWED)
    if not all(_guard_holds(guard, situation) for guard in rule.guards):
        return Expected(ErrorCode.TRANSITION_NOT_ALLOWED)
    command = _command(action, situation)
    given = command.given_fields() if isinstance(command, commands.UpdateCase) else frozenset()
    usable = [g for g in applicable if g.fields is None or given <= g.fields]  # only UPDATE limits fields
    if not usable:
        return Expected(ErrorCode.PERMISSION_DENIED)
    targets = {_resolve(grant.to if grant.to is not None else rule.to, situation) for grant in usable}
    assert len(targets) == 1, f"the table is ambiguous for {persona} {action.value} in {situation.id}: {targets}"
    (target,) = targets
    return Expected(to=target, event_type=_event_type(rule, situation.state, target))


def _command(action: CaseAction, situation: Situation) -> commands.Command:
    """Valid input for the action (an UPDATE of a draft changes its description: drafts have no comments)."""
    if action is CaseAction.UPDATE:
        if situation.state[1] is T.DRAFT:
            return commands.UpdateCase(description="Now with a photo of the hole.")
        return commands.UpdateCase(comment="Any news?")
    return VALID_INPUT.get(action, commands.NoInput())


VALID_INPUT: Final[Mapping[CaseAction, commands.Command]] = {
    CaseAction.ASSIGN: commands.Assign(assignee_id="eli"),  # other_agent
    CaseAction.REQUEST_INSPECTION: commands.RequestInspection(inspector_id="finn"),  # field_agent
    CaseAction.ASSIGN_WORK: commands.AssignWork(tasks=(commands.TaskSpec(title="Fill the pothole"),)),
    CaseAction.PROPOSE_SOLUTION: commands.ProposeSolution(
        resolution_code=ResolutionCode.SOLVED, resolution_notes="Filled."
    ),
    CaseAction.CLOSE: commands.Close(resolution_notes="Nothing more to do."),
    CaseAction.CANCEL: commands.Cancel(reason="Filed twice."),
    CaseAction.REJECT_SOLUTION: commands.RejectSolution(reason="Still there."),
    CaseAction.REQUEST_INFO: commands.RequestInfo(question="Which side of the street?"),
    CaseAction.COMPLETE_INSPECTION: commands.CompleteInspection(findings="Forty centimetres wide."),
    CaseAction.SUBMIT_SURVEY: commands.SubmitSurvey(rating=4, comment="Quick."),
}


async def _place_case(world: World, situation: Situation) -> CaseRecord:
    case = await insert_case(
        world,
        case_type=CASE_TYPE_OF[situation.workflow],
        state=situation.state,
        requester=AUTHOR,
        assigned_to="agent",
        inspector="field_agent",
        remembered=situation.remembered,
        solution_accepted=situation.solution_accepted,
    )
    for index in range(situation.open_tasks):
        await CaseTask.create(case_id=case.id, title=f"Open task {index}", assignee_id=None, created_at=world.clock())
    return case


def _verdict(code: ErrorCode | None) -> str:
    return code.value if code else "success"


async def _last_event(case_id: str) -> EventRecord:
    rows = await CaseEvent.filter(case_id=case_id).order_by("-sequence").limit(1).values(*EVENT_COLUMNS)
    return EventRecord.from_row(rows[0])


def _offered(persona: str, situation: Situation, case: CaseRecord, world: World) -> list[CaseAction]:
    """availableActions as the API computes it, from the actor's real relations to the real case."""
    return lifecycle.available_actions(
        workflow=case.workflow,
        state=case.state,
        relations=relations_of(world.actor(persona), case.parties()),
        facts=case.facts(open_tasks=situation.open_tasks),
    )


@pytest.mark.parametrize(("situation", "action"), CELLS, ids=[f"{s.id}-{a.value}" for s, a in CELLS])
async def test_action_matrix_cell_matches_the_table(
    world: World, clock: FakeClock, publisher: RecordingPublisher, situation: Situation, action: CaseAction
) -> None:
    mismatches: list[str] = []
    fresh: CaseRecord | None = None
    for persona in PERSONAS:
        # given a case in the situation; one that a refusal provably left untouched (same version,
        # state and events, checked below) serves the next persona, which keeps the matrix fast
        case = fresh or await _place_case(world, situation)
        fresh = None
        want = expected(persona, situation, action)
        published_before = len(publisher.events)
        request = ActionRequest(action=action, case_id=case.id, command=_command(action, situation))
        # when
        try:
            result = await perform(actor=world.actor(persona), request=request, now=clock(), publisher=publisher)
        except DomainError as refusal:
            got: ErrorCode | None = refusal.code
        else:
            got = None
        # then
        if got is not want.code:
            mismatches.append(f"{persona}: expected {_verdict(want.code)}, got {_verdict(got)}")
            continue
        after = await case_row(case.id)
        if want.allowed:
            event = await _last_event(case.id)
            assert want.to is not None
            assert result.case.state == want.to == after.state, persona
            assert after.version == result.case.version == case.version + 1, persona
            assert await event_count(case.id) == 2, persona
            assert (event.type, event.action) == (want.event_type, action), persona
            assert (event.from_stage, event.from_status) == situation.state, persona
            assert (event.to_stage, event.to_status) == want.to, persona
            assert event.version == after.version, persona
            assert result.event == event, persona
            assert publisher.events[published_before:] == [event], persona
            assert after.deleted is (action is CaseAction.DELETE), persona
        else:
            assert (after.version, after.state, after.deleted) == (case.version, case.state, False), persona
            assert await event_count(case.id) == 1, persona
            assert len(publisher.events) == published_before, persona
            fresh = case
        if visible_to(persona, situation):
            offered = action in _offered(persona, situation, case, world)
            if offered is not (got is None):
                mismatches.append(f"{persona}: availableActions {'offers' if offered else 'omits'} it")
    assert mismatches == []


@pytest.mark.parametrize("situation", SITUATIONS, ids=[s.id for s in SITUATIONS])
def test_available_actions_are_exactly_the_cells_the_table_allows(situation: Situation) -> None:
    facts = Facts(
        open_tasks=situation.open_tasks,
        solution_accepted=situation.solution_accepted,
        remembered=situation.remembered,
    )
    for persona in PERSONAS:
        if not visible_to(persona, situation):
            continue
        # when
        offered = lifecycle.available_actions(
            workflow=situation.workflow, state=situation.state, relations=RELATIONS[persona], facts=facts
        )
        # then
        assert offered == [a for a in ACTIONS if expected(persona, situation, a).allowed], persona


def test_every_allowed_cell_stays_inside_its_workflow() -> None:
    for situation, action in CELLS:
        for persona in RELATIONS:
            want = expected(persona, situation, action)
            if want.allowed:
                assert want.to in lifecycle.STATES[situation.workflow], (situation.id, action, persona)


def test_the_matrix_exercises_every_outcome() -> None:
    codes = {expected(p, s, a).code for s, a in CELLS for p in PERSONAS}
    assert codes == {
        None,
        ErrorCode.NOT_FOUND,
        ErrorCode.PERMISSION_DENIED,
        ErrorCode.TRANSITION_NOT_ALLOWED,
    }
    allowed_actions = {a for s, a in CELLS for p in PERSONAS if expected(p, s, a).allowed}
    assert allowed_actions == set(ACTIONS)
