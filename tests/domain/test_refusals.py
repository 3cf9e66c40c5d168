"""Every refusal reads as a sentence: one written out per action and per updatable field."""

from __future__ import annotations

import re

import pytest

from casegraph.domain.commands import UPDATE_FIELD_NAMES
from casegraph.domain.enums import CaseAction, ErrorCode
from casegraph.domain.errors import DomainError
from casegraph.domain.lifecycle import RULES, authorize
from casegraph.domain.refusals import FIELD_NOT_YOURS, NOT_YOURS, field_not_yours, not_yours

# A refusal sentence: "You may not" + lower-case words (an article, a possessive) + a full stop.
SENTENCE = re.compile(r"You may not [a-z][a-z' -]*[a-z]\.")


def assert_reads_as_sentence(text: str) -> None:
    assert SENTENCE.fullmatch(text), text
    words = text.removesuffix(".").split()
    # Lower case only (no enum's name), no word twice in a row ("this this case"), no noun run
    # into "this case" without its article ("accept solution this case", assembled from a name).
    assert all(a != b for a, b in zip(words, words[1:], strict=False)), text
    assert not re.search(r"\b(solution|inspection|work|info|review|survey|referral|task|step) this\b", text), text


@pytest.mark.parametrize("action", list(CaseAction), ids=lambda action: action.value)
def test_every_action_has_its_own_refusal_sentence(action: CaseAction) -> None:
    # given an action of the enum, when its refusal is looked up
    sentence = not_yours(action)
    # then it is written out and reads as a sentence
    assert_reads_as_sentence(sentence)


@pytest.mark.parametrize("field", sorted(UPDATE_FIELD_NAMES.values()))
def test_every_updatable_field_has_its_own_refusal_sentence(field: str) -> None:
    assert_reads_as_sentence(field_not_yours(field))


def test_the_tables_name_nothing_but_actions_and_fields() -> None:
    assert set(NOT_YOURS) == set(CaseAction)
    assert set(FIELD_NOT_YOURS) == set(UPDATE_FIELD_NAMES.values())


def test_the_refusal_of_accepting_a_solution_names_the_solution() -> None:
    # given someone with no part in a case, when they try to accept its solution
    rule = RULES[CaseAction.ACCEPT_SOLUTION]
    state = next(iter(rule.grants[0].frm))
    with pytest.raises(DomainError) as refused:
        authorize(CaseAction.ACCEPT_SOLUTION, frozenset(), state)
    # then the contract's code comes with a sentence
    assert refused.value.code is ErrorCode.PERMISSION_DENIED
    assert refused.value.message == "You may not accept the solution of this case."
