"""The declarative life-cycle table against the text of ``spec/lifecycle.md`` (pure, no database).

The expectations below are transcribed from the spec's *Actions* table by hand, on purpose: this
module is where the table is checked against the contract. The generated role × action × status
matrix (``tests/services/test_action_matrix.py``) then checks the services against the table.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Any, Final

import pytest

import casegraph.domain
from casegraph.domain import lifecycle
from casegraph.domain.enums import (
    CaseAction,
    CaseEventType,
    CaseStage,
    CaseStatus,
    ErrorCode,
    Relation,
    Workflow,
)
from casegraph.domain.lifecycle import Facts, State
from casegraph.domain.priority import PRIORITY_MATRIX, derive_priority

S, T, R, A = CaseStage, CaseStatus, Relation, CaseAction
PS, CS = Workflow.PUBLIC_SERVICE, Workflow.CUSTOMER_SERVICE

# The states as the spec's *Stages and statuses* table spells them.
DRAFT: Final[State] = (S.DRAFT, T.DRAFT)
INTAKE_NEW: Final[State] = (S.INTAKE, T.NEW)
INTAKE_OPEN: Final[State] = (S.INTAKE, T.OPEN)
INTAKE_AWAITING: Final[State] = (S.INTAKE, T.AWAITING_INFO)
REVIEW_OPEN: Final[State] = (S.REVIEW, T.OPEN)
REVIEW_INSPECTION: Final[State] = (S.REVIEW, T.INSPECTION_IN_PROGRESS)
REVIEW_AWAITING: Final[State] = (S.REVIEW, T.AWAITING_INFO)
PROCESS_WORK: Final[State] = (S.PROCESS, T.WORK_IN_PROGRESS)
PROCESS_ASSIGNMENT: Final[State] = (S.PROCESS, T.WORK_ASSIGNMENT_IN_PROGRESS)
PROCESS_AWAITING: Final[State] = (S.PROCESS, T.AWAITING_INFO)
READY: Final[State] = (S.DECISION, T.READY_FOR_DECISION)
RESOLVED: Final[State] = (S.DECISION, T.RESOLVED)
CLOSED: Final[State] = (S.DECISION, T.CLOSED)
CANCELLED: Final[State] = (S.DECISION, T.CANCELLED)

PS_STATES: Final = frozenset(
    {
        DRAFT,
        INTAKE_NEW,
        INTAKE_OPEN,
        INTAKE_AWAITING,
        REVIEW_OPEN,
        REVIEW_INSPECTION,
        REVIEW_AWAITING,
        PROCESS_WORK,
        PROCESS_ASSIGNMENT,
        PROCESS_AWAITING,
        READY,
        RESOLVED,
        CLOSED,
        CANCELLED,
    }
)
CS_STATES: Final = frozenset({DRAFT, INTAKE_NEW, INTAKE_OPEN, INTAKE_AWAITING, RESOLVED, CLOSED, CANCELLED})
AWAITING: Final = frozenset({INTAKE_AWAITING, REVIEW_AWAITING, PROCESS_AWAITING})
SUBMITTED_NON_TERMINAL: Final = PS_STATES - {DRAFT, CLOSED, CANCELLED}
# Where each awaiting state was asked from, for the facts (any state REQUEST_INFO may leave).
ASKED_FROM: Final[Mapping[State, State]] = {
    INTAKE_AWAITING: INTAKE_OPEN,
    REVIEW_AWAITING: REVIEW_OPEN,
    PROCESS_AWAITING: PROCESS_ASSIGNMENT,
}

ASSIGNED_AGENT: Final = (R.ASSIGNEE, R.MANAGER)  # "a MANAGER may do anything the assigned agent may do"

# *from* of the Actions table, per relation listed under *who* (public-service states).
SPEC_FROM: Final[Mapping[CaseAction, Mapping[Relation, frozenset[State]]]] = {
    A.SUBMIT: {R.AUTHOR: frozenset({DRAFT})},
    A.ASSIGN: {R.MANAGER: SUBMITTED_NON_TERMINAL},
    A.ACCEPT: {R.ASSIGNEE: frozenset({INTAKE_NEW})},
    A.ASSIGN_TO_ME: {R.GROUP_AGENT: frozenset({INTAKE_NEW}), R.MANAGER: frozenset({INTAKE_NEW})},
    A.UPDATE: {
        R.ASSIGNEE: SUBMITTED_NON_TERMINAL,
        R.MANAGER: SUBMITTED_NON_TERMINAL,
        R.GROUP_AGENT: SUBMITTED_NON_TERMINAL,
        R.REQUESTER: SUBMITTED_NON_TERMINAL - {RESOLVED},
        R.AUTHOR: frozenset({DRAFT}),
    },
    A.BEGIN_REVIEW: {r: frozenset({INTAKE_OPEN}) for r in ASSIGNED_AGENT},
    A.REQUEST_INFO: {
        r: frozenset({INTAKE_OPEN, REVIEW_OPEN, PROCESS_WORK, PROCESS_ASSIGNMENT}) for r in ASSIGNED_AGENT
    },
    A.RESUME: {r: AWAITING for r in ASSIGNED_AGENT},
    A.REQUEST_INSPECTION: {r: frozenset({REVIEW_OPEN}) for r in ASSIGNED_AGENT},
    A.COMPLETE_INSPECTION: {r: frozenset({REVIEW_INSPECTION}) for r in (R.INSPECTOR, *ASSIGNED_AGENT)},
    A.START_WORK: {r: frozenset({REVIEW_OPEN}) for r in ASSIGNED_AGENT},
    A.ASSIGN_WORK: {r: frozenset({PROCESS_WORK}) for r in ASSIGNED_AGENT},
    A.COMPLETE_WORK: {r: frozenset({PROCESS_WORK, PROCESS_ASSIGNMENT}) for r in ASSIGNED_AGENT},
    A.PROPOSE_SOLUTION: {
        r: frozenset({INTAKE_OPEN, REVIEW_OPEN, *AWAITING, PROCESS_WORK, READY}) for r in ASSIGNED_AGENT
    },
    A.ACCEPT_SOLUTION: {R.REQUESTER: frozenset({RESOLVED})},
    A.REJECT_SOLUTION: {R.REQUESTER: frozenset({RESOLVED})},
    A.CLOSE: {r: SUBMITTED_NON_TERMINAL - {RESOLVED} for r in (*ASSIGNED_AGENT, R.REQUESTER)},
    A.CANCEL: {r: SUBMITTED_NON_TERMINAL - {RESOLVED} for r in (R.REQUESTER, R.MANAGER)},
    A.DELETE: {
        **{r: frozenset({INTAKE_NEW, INTAKE_OPEN, REVIEW_OPEN, *AWAITING}) for r in ASSIGNED_AGENT},
        R.REQUESTER: frozenset({RESOLVED}),
        R.AUTHOR: frozenset({DRAFT}),
    },
    A.SUBMIT_SURVEY: {R.REQUESTER: frozenset({CLOSED})},
}
PS_ONLY: Final = frozenset(
    {
        A.BEGIN_REVIEW,
        A.REQUEST_INSPECTION,
        A.COMPLETE_INSPECTION,
        A.START_WORK,
        A.ASSIGN_WORK,
        A.COMPLETE_WORK,
    }
)
LIFE_CYCLE_ACTIONS: Final = tuple(SPEC_FROM)

# Fixed targets of the *to* column; the others are computed in ``spec_target``.
SPEC_FIXED_TO: Final[Mapping[CaseAction, State]] = {
    A.SUBMIT: INTAKE_NEW,
    A.ACCEPT: INTAKE_OPEN,
    A.ASSIGN_TO_ME: INTAKE_OPEN,
    A.BEGIN_REVIEW: REVIEW_OPEN,
    A.REQUEST_INSPECTION: REVIEW_INSPECTION,
    A.COMPLETE_INSPECTION: PROCESS_WORK,
    A.START_WORK: PROCESS_WORK,
    A.ASSIGN_WORK: PROCESS_ASSIGNMENT,
    A.COMPLETE_WORK: READY,
    A.PROPOSE_SOLUTION: RESOLVED,
    A.ACCEPT_SOLUTION: CLOSED,
    A.CLOSE: CLOSED,
    A.CANCEL: CANCELLED,
}
STATUS_UNCHANGED: Final = frozenset({A.ASSIGN, A.UPDATE, A.DELETE, A.SUBMIT_SURVEY})


def _name(value: object) -> str:
    return value.value if isinstance(value, Enum) else str(value)


def facts_for(state: State, **overrides: Any) -> Facts:
    """Facts in which every guard holds (solution accepted, no survey, no open task)."""
    return replace(Facts(solution_accepted=True, remembered=ASKED_FROM.get(state)), **overrides)


def verdict(
    action: CaseAction, state: State, *relations: Relation, workflow: Workflow = PS, **facts: Any
) -> lifecycle.Decision:
    return lifecycle.decide(
        action=action,
        workflow=workflow,
        state=state,
        relations=frozenset(relations),
        facts=facts_for(state, **facts),
    )


def spec_target(action: CaseAction, workflow: Workflow, state: State, relation: Relation) -> State:
    if action in SPEC_FIXED_TO:
        return SPEC_FIXED_TO[action]
    if action in STATUS_UNCHANGED:
        if action is A.UPDATE and relation is R.REQUESTER and state in AWAITING:
            return ASKED_FROM[state]
        return state
    if action is A.REQUEST_INFO:
        return (state[0], T.AWAITING_INFO)
    if action is A.RESUME:
        return ASKED_FROM[state]
    assert action is A.REJECT_SOLUTION
    return REVIEW_OPEN if workflow is PS else INTAKE_OPEN


# --- states and workflows -------------------------------------------------------------------------


def test_public_service_workflow_has_every_stage_and_status_of_the_spec() -> None:
    assert set(lifecycle.STATES[PS]) == PS_STATES


def test_customer_service_workflow_is_the_five_state_life_cycle_plus_draft_and_cancelled() -> None:
    assert set(lifecycle.STATES[CS]) == CS_STATES
    assert {status for stage, status in CS_STATES if stage is S.INTAKE} == {T.NEW, T.OPEN, T.AWAITING_INFO}


def test_the_table_covers_every_life_cycle_action_and_restore() -> None:
    assert set(lifecycle.RULES) == {*LIFE_CYCLE_ACTIONS, A.RESTORE}
    assert set(lifecycle.OFFERED_ACTIONS) == set(LIFE_CYCLE_ACTIONS)


@pytest.mark.parametrize("action", [a for a in LIFE_CYCLE_ACTIONS if a in PS_ONLY], ids=_name)
def test_ps_only_actions_exist_only_in_the_public_service_workflow(action: CaseAction) -> None:
    assert lifecycle.RULES[action].workflows == frozenset({PS})


@pytest.mark.parametrize("action", [a for a in LIFE_CYCLE_ACTIONS if a not in PS_ONLY], ids=_name)
def test_shared_actions_exist_in_both_workflows(action: CaseAction) -> None:
    assert lifecycle.RULES[action].workflows == frozenset(Workflow)


# --- the whole Actions table, relation by relation ------------------------------------------------


@pytest.mark.parametrize("action", LIFE_CYCLE_ACTIONS, ids=_name)
def test_each_relation_may_take_the_action_exactly_from_the_spec_from_states(action: CaseAction) -> None:
    for relation in Relation:
        for state in sorted(PS_STATES):
            # when
            decision = verdict(action, state, relation)
            # then
            allowed_from = SPEC_FROM[action].get(relation)
            if allowed_from is None:
                assert decision.code is ErrorCode.PERMISSION_DENIED, (relation, state)
            elif state in allowed_from:
                assert decision.allowed, (relation, state, decision.code)
                assert decision.to == spec_target(action, PS, state, relation), (relation, state)
            else:
                assert decision.code is ErrorCode.TRANSITION_NOT_ALLOWED, (relation, state)


@pytest.mark.parametrize("action", LIFE_CYCLE_ACTIONS, ids=_name)
def test_customer_service_allows_the_same_cells_restricted_to_its_states_and_shared_actions(
    action: CaseAction,
) -> None:
    for relation in SPEC_FROM[action]:
        for state in sorted(CS_STATES):
            decision = verdict(action, state, relation, workflow=CS)
            if action not in PS_ONLY and state in SPEC_FROM[action][relation]:
                assert decision.allowed, (relation, state, decision.code)
                assert decision.to == spec_target(action, CS, state, relation)
                assert decision.to in CS_STATES
            else:
                assert decision.code is ErrorCode.TRANSITION_NOT_ALLOWED, (relation, state)


# --- spot checks named in the spec ----------------------------------------------------------------


def test_rejected_solution_reopens_in_review_in_public_service() -> None:
    decision = verdict(A.REJECT_SOLUTION, RESOLVED, R.REQUESTER, workflow=PS)
    assert decision.allowed and decision.to == REVIEW_OPEN
    assert decision.event_type is CaseEventType.CASE_TRANSITIONED


def test_rejected_solution_reopens_in_intake_in_customer_service() -> None:
    decision = verdict(A.REJECT_SOLUTION, RESOLVED, R.REQUESTER, workflow=CS)
    assert decision.allowed and decision.to == INTAKE_OPEN


@pytest.mark.parametrize("action", [A.ACCEPT_SOLUTION, A.REJECT_SOLUTION], ids=_name)
def test_only_the_requester_answers_a_proposed_solution(action: CaseAction) -> None:
    for relation in set(Relation) - {R.REQUESTER}:
        assert verdict(action, RESOLVED, relation).code is ErrorCode.PERMISSION_DENIED


@pytest.mark.parametrize("action", [A.CLOSE, A.CANCEL], ids=_name)
@pytest.mark.parametrize("state", [RESOLVED, DRAFT], ids=["RESOLVED", "DRAFT"])
def test_close_and_cancel_are_never_allowed_from_resolved_or_draft(action: CaseAction, state: State) -> None:
    # given every relation at once, so no grant anywhere may list the state
    everyone = tuple(Relation)
    # when
    decision = verdict(action, state, *everyone)
    # then
    assert decision.code is ErrorCode.TRANSITION_NOT_ALLOWED
    assert all(state not in grant.frm for grant in lifecycle.RULES[action].grants)


@pytest.mark.parametrize("action", [A.CLOSE, A.CANCEL], ids=_name)
def test_the_requester_may_close_or_withdraw_without_giving_anything(action: CaseAction) -> None:
    decision = verdict(action, PROCESS_WORK, R.REQUESTER)
    assert decision.allowed and decision.missing == ()


def test_staff_must_give_resolution_notes_to_close() -> None:
    for relation in ASSIGNED_AGENT:
        assert verdict(A.CLOSE, INTAKE_OPEN, relation).missing == ("resolutionNotes",)


def test_a_manager_must_give_a_reason_to_cancel_and_the_assignee_may_not_cancel() -> None:
    assert verdict(A.CANCEL, INTAKE_OPEN, R.MANAGER).missing == ("reason",)
    assert verdict(A.CANCEL, INTAKE_OPEN, R.ASSIGNEE).code is ErrorCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("relation", "allowed_from"),
    [
        (R.ASSIGNEE, {INTAKE_NEW, INTAKE_OPEN, REVIEW_OPEN, *AWAITING}),
        (R.MANAGER, {INTAKE_NEW, INTAKE_OPEN, REVIEW_OPEN, *AWAITING}),
        (R.REQUESTER, {RESOLVED}),
        (R.AUTHOR, {DRAFT}),
    ],
    ids=lambda v: v.value if isinstance(v, Relation) else "",
)
def test_delete_is_allowed_per_relation_and_keeps_the_state_with_a_deleted_event(
    relation: Relation, allowed_from: set[State]
) -> None:
    for state in PS_STATES:
        decision = verdict(A.DELETE, state, relation)
        if state in allowed_from:
            assert decision.allowed and decision.to == state
            assert decision.event_type is CaseEventType.CASE_DELETED
        else:
            assert decision.code is ErrorCode.TRANSITION_NOT_ALLOWED, state


@pytest.mark.parametrize("state", sorted(AWAITING), ids=lambda s: s[0].value)
def test_requester_update_while_awaiting_info_returns_the_case_to_the_remembered_state(state: State) -> None:
    # given a case asked for information from ASKED_FROM[state]
    remembered = ASKED_FROM[state]
    # when
    decision = verdict(A.UPDATE, state, R.REQUESTER, R.AUTHOR, remembered=remembered)
    # then
    assert decision.allowed and decision.to == remembered
    assert decision.event_type is CaseEventType.CASE_TRANSITIONED


@pytest.mark.parametrize("state", sorted(AWAITING), ids=lambda s: s[0].value)
def test_staff_update_while_awaiting_info_leaves_the_case_waiting(state: State) -> None:
    for relation in (R.ASSIGNEE, R.MANAGER, R.GROUP_AGENT):
        decision = verdict(A.UPDATE, state, relation)
        assert decision.allowed and decision.to == state
        assert decision.event_type is CaseEventType.CASE_UPDATED


@pytest.mark.parametrize("state", sorted(AWAITING), ids=lambda s: s[0].value)
def test_resume_returns_to_the_remembered_state(state: State) -> None:
    decision = verdict(A.RESUME, state, R.ASSIGNEE, remembered=ASKED_FROM[state])
    assert decision.allowed and decision.to == ASKED_FROM[state]


def test_the_requester_may_not_update_a_resolved_case() -> None:
    assert verdict(A.UPDATE, RESOLVED, R.REQUESTER).code is ErrorCode.TRANSITION_NOT_ALLOWED


def test_update_fields_follow_the_relation() -> None:
    group_agent = next(g for g in lifecycle.RULES[A.UPDATE].grants if g.who == {R.GROUP_AGENT})
    requester = [g for g in lifecycle.RULES[A.UPDATE].grants if g.who == {R.REQUESTER}]
    staff = next(g for g in lifecycle.RULES[A.UPDATE].grants if R.ASSIGNEE in g.who)
    assert group_agent.fields == frozenset({"comment", "workNote"})
    requester_fields = frozenset({"description", "contactEmail", "contactPhone", "comment"})
    assert requester and all(g.fields == requester_fields for g in requester)
    assert staff.who == {R.ASSIGNEE, R.MANAGER}
    assert staff.fields is not None and "workNote" in staff.fields and "title" in staff.fields


@pytest.mark.parametrize("state", sorted(AWAITING), ids=lambda s: s[0].value)
def test_request_info_is_not_allowed_while_already_awaiting_info(state: State) -> None:
    assert verdict(A.REQUEST_INFO, state, R.ASSIGNEE).code is ErrorCode.TRANSITION_NOT_ALLOWED


@pytest.mark.parametrize(
    "state", [INTAKE_OPEN, REVIEW_OPEN, PROCESS_WORK, PROCESS_ASSIGNMENT], ids=lambda s: f"{s[0].value}-{s[1].value}"
)
def test_request_info_waits_in_the_same_stage(state: State) -> None:
    decision = verdict(A.REQUEST_INFO, state, R.ASSIGNEE)
    assert decision.allowed and decision.to == (state[0], T.AWAITING_INFO)
    assert decision.missing == ("question",)


def test_propose_solution_is_refused_while_work_is_being_assigned() -> None:
    for relation in ASSIGNED_AGENT:
        assert verdict(A.PROPOSE_SOLUTION, PROCESS_ASSIGNMENT, relation).code is ErrorCode.TRANSITION_NOT_ALLOWED


def test_propose_solution_needs_a_resolution_code_and_notes() -> None:
    decision = verdict(A.PROPOSE_SOLUTION, INTAKE_OPEN, R.ASSIGNEE)
    assert decision.allowed and decision.to == RESOLVED
    assert set(decision.missing) == {"resolutionCode", "resolutionNotes"}


@pytest.mark.parametrize("action", [a for a in LIFE_CYCLE_ACTIONS if a in PS_ONLY], ids=_name)
def test_ps_only_actions_are_refused_in_customer_service_as_transition_not_allowed(action: CaseAction) -> None:
    for state in CS_STATES:
        decision = verdict(action, state, R.ASSIGNEE, R.MANAGER, R.GROUP_AGENT, R.INSPECTOR, workflow=CS)
        assert decision.code is ErrorCode.TRANSITION_NOT_ALLOWED, state


def test_complete_work_waits_for_every_open_task() -> None:
    for state in (PROCESS_WORK, PROCESS_ASSIGNMENT):
        assert verdict(A.COMPLETE_WORK, state, R.ASSIGNEE, open_tasks=1).code is ErrorCode.TRANSITION_NOT_ALLOWED
        settled = verdict(A.COMPLETE_WORK, state, R.ASSIGNEE, open_tasks=0)
        assert settled.allowed and settled.to == READY


def test_survey_is_open_only_after_the_solution_was_accepted() -> None:
    assert verdict(A.SUBMIT_SURVEY, CLOSED, R.REQUESTER, solution_accepted=False).code is (
        ErrorCode.TRANSITION_NOT_ALLOWED
    )
    accepted = verdict(A.SUBMIT_SURVEY, CLOSED, R.REQUESTER, solution_accepted=True)
    assert accepted.allowed and accepted.to == CLOSED
    assert accepted.event_type is CaseEventType.CASE_UPDATED
    assert accepted.missing == ("rating",)


def test_survey_is_submitted_once_per_case() -> None:
    again = verdict(A.SUBMIT_SURVEY, CLOSED, R.REQUESTER, solution_accepted=True, survey_submitted=True)
    assert again.code is ErrorCode.TRANSITION_NOT_ALLOWED


def test_no_survey_after_a_cancel() -> None:
    assert verdict(A.SUBMIT_SURVEY, CANCELLED, R.REQUESTER).code is ErrorCode.TRANSITION_NOT_ALLOWED


@pytest.mark.parametrize("state", [CLOSED, CANCELLED], ids=lambda s: s[1].value)
def test_terminal_states_allow_nothing_but_the_survey(state: State) -> None:
    everyone = tuple(Relation)
    for action in LIFE_CYCLE_ACTIONS:
        decision = verdict(action, state, *everyone)
        assert decision.allowed is (action is A.SUBMIT_SURVEY and state == CLOSED), action


def test_submit_needs_a_title() -> None:
    assert verdict(A.SUBMIT, DRAFT, R.AUTHOR, has_title=False).code is ErrorCode.TRANSITION_NOT_ALLOWED
    assert verdict(A.SUBMIT, DRAFT, R.AUTHOR, has_case_type=False).code is ErrorCode.TRANSITION_NOT_ALLOWED
    assert verdict(A.SUBMIT, DRAFT, R.AUTHOR).to == INTAKE_NEW


def test_assign_needs_an_assignee_and_leaves_the_status() -> None:
    decision = verdict(A.ASSIGN, INTAKE_NEW, R.MANAGER)
    assert decision.allowed and decision.to == INTAKE_NEW and decision.missing == ("assigneeId",)
    assert decision.event_type is CaseEventType.CASE_UPDATED
    assert verdict(A.ASSIGN, INTAKE_NEW, R.ASSIGNEE, R.GROUP_AGENT).code is ErrorCode.PERMISSION_DENIED


def test_inspection_needs_an_inspector_and_findings() -> None:
    assert verdict(A.REQUEST_INSPECTION, REVIEW_OPEN, R.ASSIGNEE).missing == ("inspectorId",)
    assert verdict(A.COMPLETE_INSPECTION, REVIEW_INSPECTION, R.INSPECTOR).missing == ("findings",)


def test_assign_work_needs_tasks() -> None:
    assert verdict(A.ASSIGN_WORK, PROCESS_WORK, R.ASSIGNEE).missing == ("tasks",)


def test_reject_needs_a_reason() -> None:
    assert verdict(A.REJECT_SOLUTION, RESOLVED, R.REQUESTER).missing == ("reason",)


def test_admin_takes_no_life_cycle_action() -> None:
    for action in LIFE_CYCLE_ACTIONS:
        for state in PS_STATES:
            assert verdict(action, state, R.ADMIN).code is ErrorCode.PERMISSION_DENIED, (action, state)


def test_restore_is_for_admins_of_deleted_cases_only() -> None:
    assert verdict(A.RESTORE, INTAKE_OPEN, R.ADMIN, deleted=True).allowed
    assert verdict(A.RESTORE, INTAKE_OPEN, R.ADMIN, deleted=False).code is ErrorCode.TRANSITION_NOT_ALLOWED
    assert verdict(A.RESTORE, INTAKE_OPEN, R.MANAGER, deleted=True).code is ErrorCode.PERMISSION_DENIED


def test_nothing_but_restore_happens_to_a_deleted_case() -> None:
    assert verdict(A.UPDATE, INTAKE_OPEN, R.ASSIGNEE, deleted=True).code is ErrorCode.TRANSITION_NOT_ALLOWED


# --- priority -------------------------------------------------------------------------------------

SPEC_PRIORITY: Final = {
    (1, 1): 1,
    (1, 2): 2,
    (1, 3): 3,
    (2, 1): 2,
    (2, 2): 3,
    (2, 3): 4,
    (3, 1): 3,
    (3, 2): 4,
    (3, 3): 5,
}


@pytest.mark.parametrize(("impact", "urgency"), sorted(SPEC_PRIORITY), ids=lambda v: str(v))
def test_priority_is_derived_from_impact_and_urgency(impact: int, urgency: int) -> None:
    assert derive_priority(impact, urgency) == SPEC_PRIORITY[(impact, urgency)]
    assert PRIORITY_MATRIX[impact][urgency] == SPEC_PRIORITY[(impact, urgency)]


@pytest.mark.parametrize(("impact", "urgency"), [(0, 1), (1, 4), (4, 4), (-1, 2)])
def test_priority_refuses_levels_outside_one_to_three(impact: int, urgency: int) -> None:
    with pytest.raises(ValueError):
        derive_priority(impact, urgency)


# --- available actions ----------------------------------------------------------------------------


def offered(state: State, *relations: Relation, workflow: Workflow = PS, **facts: Any) -> list[CaseAction]:
    return lifecycle.available_actions(
        workflow=workflow, state=state, relations=frozenset(relations), facts=facts_for(state, **facts)
    )


def test_the_assigned_agent_of_a_new_case_may_accept_take_update_close_or_delete() -> None:
    assert offered(INTAKE_NEW, R.ASSIGNEE, R.GROUP_AGENT) == [
        A.ACCEPT,
        A.ASSIGN_TO_ME,
        A.UPDATE,
        A.CLOSE,
        A.DELETE,
    ]


def test_a_group_agent_of_a_new_case_may_take_it_or_comment() -> None:
    assert offered(INTAKE_NEW, R.GROUP_AGENT) == [A.ASSIGN_TO_ME, A.UPDATE]
    assert offered(REVIEW_OPEN, R.GROUP_AGENT) == [A.UPDATE]


def test_a_manager_in_review_is_offered_everything_the_assignee_is_plus_assign_and_cancel() -> None:
    assert offered(REVIEW_OPEN, R.MANAGER, R.GROUP_AGENT) == [
        A.ASSIGN,
        A.UPDATE,
        A.REQUEST_INFO,
        A.REQUEST_INSPECTION,
        A.START_WORK,
        A.PROPOSE_SOLUTION,
        A.CLOSE,
        A.CANCEL,
        A.DELETE,
    ]


def test_the_requester_of_a_resolved_case_may_accept_reject_or_delete() -> None:
    assert offered(RESOLVED, R.REQUESTER, R.AUTHOR) == [A.ACCEPT_SOLUTION, A.REJECT_SOLUTION, A.DELETE]


def test_the_requester_is_offered_the_survey_once_after_accepting() -> None:
    assert offered(CLOSED, R.REQUESTER, solution_accepted=True) == [A.SUBMIT_SURVEY]
    assert offered(CLOSED, R.REQUESTER, solution_accepted=True, survey_submitted=True) == []
    assert offered(CLOSED, R.REQUESTER, solution_accepted=False) == []


def test_the_inspector_is_offered_only_completing_the_inspection() -> None:
    assert offered(REVIEW_INSPECTION, R.INSPECTOR) == [A.COMPLETE_INSPECTION]
    assert offered(REVIEW_OPEN, R.INSPECTOR) == []


def test_the_author_of_a_draft_may_submit_update_or_delete_it() -> None:
    assert offered(DRAFT, R.AUTHOR, R.REQUESTER) == [A.SUBMIT, A.UPDATE, A.DELETE]


def test_customer_service_assignee_of_an_open_case_sees_no_public_service_steps() -> None:
    assert offered(INTAKE_OPEN, R.ASSIGNEE, R.GROUP_AGENT, workflow=CS) == [
        A.UPDATE,
        A.REQUEST_INFO,
        A.PROPOSE_SOLUTION,
        A.CLOSE,
        A.DELETE,
    ]


def test_admins_and_deleted_cases_are_offered_nothing() -> None:
    assert offered(INTAKE_OPEN, R.ADMIN) == []
    assert offered(INTAKE_OPEN, R.ASSIGNEE, R.MANAGER, deleted=True) == []


# --- purity ---------------------------------------------------------------------------------------

DOMAIN_DIR: Final = Path(casegraph.domain.__file__).parent


def _imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append(node.module or "")
            else:
                package = ["casegraph", "domain"]
                base = package[: len(package) - (node.level - 1)]
                found.append(".".join([*base, *([node.module] if node.module else [])]))
    return found


def _is_allowed(module: str) -> bool:
    return (
        module.split(".")[0] in sys.stdlib_module_names
        or module == "casegraph.domain"
        or (module.startswith("casegraph.domain."))
    )


@pytest.mark.parametrize("path", sorted(DOMAIN_DIR.glob("*.py")), ids=lambda p: p.name)
def test_domain_modules_import_only_the_standard_library_and_the_domain(path: Path) -> None:
    outside = [module for module in _imported_modules(path) if not _is_allowed(module)]
    assert outside == []


def test_the_purity_check_would_catch_an_orm_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom tortoise import fields\nfrom .. import services\n", encoding="utf-8")
    assert [m for m in _imported_modules(sample) if not _is_allowed(m)] == ["tortoise", "casegraph"]
