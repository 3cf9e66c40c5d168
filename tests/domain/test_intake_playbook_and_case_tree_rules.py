"""The pure rules behind required fields, playbook gates and parent cases (no database)."""

from __future__ import annotations

import pytest

from casegraph.domain import lifecycle
from casegraph.domain.case_tree import ChildState, refuse_if_children_open, waits_for_children
from casegraph.domain.enums import CaseAction, CaseStage, CaseStatus, ErrorCode, Relation, Workflow
from casegraph.domain.errors import DomainError
from casegraph.domain.intake import CaseField, IntakeValues, missing_fields, require_complete
from casegraph.domain.playbooks import OpenStep, StepDefinition, check_definition, is_gated, numbered, refuse_if_open

EMPTY = IntakeValues(description=None, contact_email=None, contact_phone=None, has_location=False)


def test_missing_fields_come_in_declaration_order_and_the_refusal_names_the_first_field() -> None:
    # given
    required = [CaseField.LOCATION, CaseField.CONTACT_PHONE, CaseField.LOCATION]
    # when
    with pytest.raises(DomainError) as refused:
        require_complete(required, EMPTY)
    # then
    assert missing_fields(required, EMPTY) == (CaseField.CONTACT_PHONE, CaseField.LOCATION)
    assert (refused.value.code, refused.value.field) == (ErrorCode.VALIDATION_FAILED, "contactPhone")
    assert "contactPhone, location" in refused.value.message


def test_a_description_equal_to_the_template_skeleton_is_missing() -> None:
    # given
    skeleton = IntakeValues("Where?\nHow big?", None, None, False, description_skeleton=" Where?\nHow big? ")
    filled = IntakeValues("Where? Elm St.", None, None, False, description_skeleton="Where?\nHow big?")
    # then
    assert missing_fields([CaseField.DESCRIPTION], skeleton) == (CaseField.DESCRIPTION,)
    assert missing_fields([CaseField.DESCRIPTION], filled) == ()


@pytest.mark.parametrize(
    ("action", "target", "relations", "gated"),
    [
        (CaseAction.BEGIN_REVIEW, lifecycle.REVIEW_OPEN, {Relation.ASSIGNEE}, True),
        (CaseAction.PROPOSE_SOLUTION, lifecycle.RESOLVED, {Relation.MANAGER}, True),
        (CaseAction.REQUEST_INFO, lifecycle.INTAKE_AWAITING, {Relation.ASSIGNEE}, False),  # same stage
        (CaseAction.CANCEL, lifecycle.CANCELLED, {Relation.MANAGER}, False),
        (CaseAction.CLOSE, lifecycle.CLOSED, {Relation.ASSIGNEE}, False),  # an exit, not progress
        (CaseAction.MARK_DUPLICATE, lifecycle.RESOLVED, {Relation.ASSIGNEE}, False),
        (CaseAction.CLOSE, lifecycle.CLOSED, {Relation.REQUESTER, Relation.AUTHOR}, False),  # a withdrawal
        (CaseAction.AUTO_CLOSE, lifecycle.CLOSED, set(), False),  # the system
    ],
)
def test_which_moves_wait_for_the_stage_s_required_steps(
    action: CaseAction, target: lifecycle.State, relations: set[Relation], gated: bool
) -> None:
    assert is_gated(action=action, state=lifecycle.INTAKE_OPEN, target=target, relations=frozenset(relations)) is gated


def test_the_playbook_refusal_names_every_open_required_step() -> None:
    # when
    with pytest.raises(DomainError) as refused:
        refuse_if_open(
            CaseStage.INTAKE,
            [OpenStep(CaseStage.INTAKE, 1, "Verify the location"), OpenStep(CaseStage.INTAKE, 3, "Call back")],
        )
    # then
    assert refused.value.code is ErrorCode.TRANSITION_NOT_ALLOWED
    assert '"Verify the location"' in refused.value.message and '"Call back"' in refused.value.message
    refuse_if_open(CaseStage.INTAKE, [])


def test_steps_are_numbered_per_stage_and_must_fit_the_workflow() -> None:
    # given
    steps = [
        StepDefinition(CaseStage.INTAKE, "a"),
        StepDefinition(CaseStage.DECISION, "b"),
        StepDefinition(CaseStage.INTAKE, "c"),
    ]
    # then
    assert [(position, step.title) for position, step in numbered(steps)] == [(1, "a"), (1, "b"), (2, "c")]
    check_definition(Workflow.CUSTOMER_SERVICE, steps)
    with pytest.raises(DomainError) as refused:
        check_definition(Workflow.CUSTOMER_SERVICE, [*steps, StepDefinition(CaseStage.PROCESS, "d")])
    assert refused.value.field == "steps.3.stage"


def test_a_parent_waits_only_on_the_way_to_resolved_or_closed() -> None:
    assert waits_for_children(CaseStatus.OPEN, CaseStatus.RESOLVED)
    assert waits_for_children(CaseStatus.RESOLVED, CaseStatus.CLOSED)
    assert waits_for_children(CaseStatus.WORK_IN_PROGRESS, CaseStatus.CLOSED)
    assert not waits_for_children(CaseStatus.OPEN, CaseStatus.CANCELLED)
    assert not waits_for_children(CaseStatus.OPEN, CaseStatus.OPEN)


def test_the_parent_refusal_names_the_open_children_by_number() -> None:
    # given
    children = [
        ChildState("CS0001003", CaseStatus.NEW),
        ChildState("CS0001002", CaseStatus.RESOLVED),
        ChildState("CS0001004", CaseStatus.OPEN, deleted=True),
        ChildState("CS0001001", CaseStatus.OPEN),
    ]
    # when
    with pytest.raises(DomainError) as refused:
        refuse_if_children_open(children)
    # then
    assert refused.value.code is ErrorCode.TRANSITION_NOT_ALLOWED
    assert "CS0001001, CS0001003" in refused.value.message
    assert "CS0001002" not in refused.value.message and "CS0001004" not in refused.value.message
    refuse_if_children_open([ChildState("CS0001002", CaseStatus.CLOSED)])
