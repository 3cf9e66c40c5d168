"""The pure rules beside the life-cycle table (issue 14, §6): separation of duties in
``relations_of``, the desk actions' table, and exits that no playbook holds back."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from casegraph.domain import lifecycle
from casegraph.domain.desk_actions import DESK_RULES, available_actions
from casegraph.domain.enums import CaseAction, CaseStatus, Relation, Role, Workflow
from casegraph.domain.playbooks import is_gated
from casegraph.domain.relations import STAFF_RELATIONS, Actor, CaseParties, relations_of

EVERY_ROLE = frozenset(Role)


def test_a_requester_holds_no_staff_relation_to_their_own_case_whatever_their_roles() -> None:
    # given: sam holds every role, is in the case's group and manages it, and is assignee and inspector
    sam = Actor("sam", EVERY_ROLE, group_ids=frozenset({7}), managed_group_ids=frozenset({7}), agency="CITY")
    parties: dict[str, Any] = dict(
        author_id="sam",
        assigned_to_id="sam",
        group_id=7,
        inspector_id="sam",
        referred_agency="CITY",
        status=CaseStatus.OPEN,
    )
    # when
    as_requester = relations_of(sam, CaseParties(requester_id="sam", **parties))
    as_staff = relations_of(sam, CaseParties(requester_id="alice", **parties))
    # then
    assert as_requester & STAFF_RELATIONS == frozenset()
    assert {Relation.REQUESTER, Relation.AUTHOR} <= as_requester
    assert as_staff >= STAFF_RELATIONS


@pytest.mark.parametrize("action", list(DESK_RULES), ids=lambda a: a.value)
def test_no_desk_action_is_ever_open_to_the_requester(action: CaseAction) -> None:
    for state in lifecycle.ALL_STATES:
        verdict = lifecycle.decide(
            action=action,
            workflow=Workflow.PUBLIC_SERVICE,
            state=state,
            relations=frozenset({Relation.REQUESTER, Relation.AUTHOR}),
            facts=lifecycle.Facts(open_steps=1),
            rules=DESK_RULES,
        )
        assert not verdict.allowed, state


def test_desk_actions_are_offered_only_on_live_submitted_cases() -> None:
    staff = frozenset({Relation.ASSIGNEE, Relation.MANAGER})
    for workflow, state in itertools.product(Workflow, lifecycle.ALL_STATES - lifecycle.SUBMITTED_NON_TERMINAL):
        assert (
            available_actions(workflow=workflow, state=state, relations=staff, facts=lifecycle.Facts(open_steps=1))
            == []
        )
    deleted = lifecycle.Facts(open_steps=1, deleted=True)
    assert (
        available_actions(workflow=Workflow.PUBLIC_SERVICE, state=lifecycle.REVIEW_OPEN, relations=staff, facts=deleted)
        == []
    )


def test_ticking_off_a_step_is_offered_only_while_one_is_open() -> None:
    staff = frozenset({Relation.ASSIGNEE})
    none_open = available_actions(
        workflow=Workflow.PUBLIC_SERVICE, state=lifecycle.REVIEW_OPEN, relations=staff, facts=lifecycle.Facts()
    )
    one_open = available_actions(
        workflow=Workflow.PUBLIC_SERVICE,
        state=lifecycle.REVIEW_OPEN,
        relations=staff,
        facts=lifecycle.Facts(open_steps=1),
    )
    assert CaseAction.COMPLETE_STEP not in none_open and CaseAction.COMPLETE_STEP in one_open


@pytest.mark.parametrize("action", sorted(lifecycle.EXIT_ACTIONS), ids=lambda a: a.value)
def test_no_playbook_holds_back_an_exit_for_anyone(action: CaseAction) -> None:
    target = lifecycle.RULES[action].to
    assert isinstance(target, tuple)
    for relation, state in itertools.product(Relation, lifecycle.SUBMITTED_NON_TERMINAL):
        assert not is_gated(action=action, state=state, target=target, relations=frozenset({relation}))
