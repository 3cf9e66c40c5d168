"""Every refusal reads as a sentence: what each action does, each updatable field, each status,
each workflow and each condition of the life-cycle table are written out, never made from names."""

from __future__ import annotations

import re

import pytest

from casegraph.domain.commands import UPDATE_FIELD_NAMES
from casegraph.domain.enums import CaseAction, CaseStatus, ErrorCode, Workflow
from casegraph.domain.errors import DomainError
from casegraph.domain.lifecycle import RULES, UNMET, Guard, authorize
from casegraph.domain.refusals import (
    ACTS,
    FIELD_NOT_YOURS,
    STATUS_WORDS,
    WORKFLOW_WORDS,
    field_not_yours,
    not_in_workflow,
    not_now,
    not_yet,
    not_yours,
)

# "You may not" / "You cannot" + lower-case words (an article, a possessive, a colon) + a full stop.
SENTENCE = re.compile(r"You (may not|cannot) [a-z][a-z' :-]*[a-z]\.")


def assert_reads_as_sentence(text: str) -> None:
    assert SENTENCE.fullmatch(text), text
    words = text.removesuffix(".").split()
    # Lower case only (no enum's name), no word twice in a row ("this this case"), no noun run
    # into "this case" without its article ("accept solution this case", made from a name).
    assert all(a != b for a, b in zip(words, words[1:], strict=False)), text
    assert not re.search(r"\b(solution|inspection|work|info|review|survey|referral|task|step) this\b", text), text


@pytest.mark.parametrize("action", list(CaseAction), ids=lambda action: action.value)
def test_every_action_is_refused_in_a_sentence_of_its_own(action: CaseAction) -> None:
    # given an action of the enum, when it is refused for any reason the table has
    sentences = [
        not_yours(action),
        *(not_now(action, status) for status in CaseStatus),
        *(not_in_workflow(action, workflow) for workflow in Workflow),
        *(not_yet(action, because) for because in UNMET.values()),
    ]
    # then each is a sentence
    for sentence in sentences:
        assert_reads_as_sentence(sentence)


@pytest.mark.parametrize("field", sorted(UPDATE_FIELD_NAMES.values()))
def test_every_updatable_field_has_its_own_refusal_sentence(field: str) -> None:
    assert_reads_as_sentence(field_not_yours(field))


def test_the_tables_word_every_action_field_status_workflow_and_condition() -> None:
    assert set(ACTS) == set(CaseAction)
    assert set(FIELD_NOT_YOURS) == set(UPDATE_FIELD_NAMES.values())
    assert set(STATUS_WORDS) == set(CaseStatus)
    assert set(WORKFLOW_WORDS) == set(Workflow)
    assert set(UNMET) == set(Guard)


def test_the_refusal_of_accepting_a_solution_names_the_solution() -> None:
    # given someone with no part in a case, when they try to accept its solution
    rule = RULES[CaseAction.ACCEPT_SOLUTION]
    state = next(iter(rule.grants[0].frm))
    with pytest.raises(DomainError) as refused:
        authorize(CaseAction.ACCEPT_SOLUTION, frozenset(), state)
    # then the contract's code comes with a sentence
    assert refused.value.code is ErrorCode.PERMISSION_DENIED
    assert refused.value.message == "You may not accept the solution of this case."


def test_taking_a_closed_case_is_refused_in_words() -> None:
    assert not_now(CaseAction.ASSIGN_TO_ME, CaseStatus.CLOSED) == "You cannot take this case now: the case is closed."
