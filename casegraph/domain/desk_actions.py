"""The service desk's actions around the life cycle, in the life-cycle table's own shape.

Pure: standard library only. Referring a case to a partner (and deciding on one a partner referred
to us), linking a knowledge article, marking a duplicate, ticking off a playbook step and
splitting a case are not rows of ``spec/lifecycle.md``
but they are offered to the same viewers as buttons (``availableActions``). Who may take each from
which states is written once here: the services check their callers against these relation sets
and states, and ``availableActions`` offers exactly what they would accept (their own inputs
aside; tests/graphql/test_desk_actions_offered.py holds the two together).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from casegraph.domain import lifecycle
from casegraph.domain.enums import CaseAction, Relation, Workflow
from casegraph.domain.lifecycle import Facts, Grant, Guard, Rule, State, Target

A, R = CaseAction, Relation
# Handing the case on or breaking it up is the case's own agent's (or a manager's) call; its
# group's other agents may only add knowledge to it.
REFERRERS: Final = frozenset({R.ASSIGNEE, R.MANAGER})
SPLITTERS: Final = frozenset({R.ASSIGNEE, R.MANAGER})
STEP_KEEPERS: Final = frozenset({R.ASSIGNEE, R.MANAGER})
LINKERS: Final = frozenset({R.ASSIGNEE, R.MANAGER, R.GROUP_AGENT})
# A case a partner referred to us: any agent of its group may take it on; turning it down (which
# cancels it here) is the case's agent's or a manager's call.
REFERRAL_ACCEPTERS: Final = frozenset({R.ASSIGNEE, R.MANAGER, R.GROUP_AGENT})
REFERRAL_REJECTERS: Final = frozenset({R.ASSIGNEE, R.MANAGER})
OPEN_NOT_RESOLVED: Final = lifecycle.SUBMITTED_NON_TERMINAL - {lifecycle.RESOLVED}

DESK_RULES: Final[Mapping[CaseAction, Rule]] = {
    rule.action: rule
    for rule in (
        Rule(A.REFER, Target.SAME, (Grant(REFERRERS, OPEN_NOT_RESOLVED),)),
        Rule(A.LINK_ARTICLE, Target.SAME, (Grant(LINKERS, lifecycle.SUBMITTED_NON_TERMINAL),)),
        # Resolving as a duplicate is proposing a solution with the code DUPLICATE: same people, same states.
        Rule(
            A.MARK_DUPLICATE,
            lifecycle.RESOLVED,
            tuple(Grant(g.who, g.frm) for g in lifecycle.RULES[A.PROPOSE_SOLUTION].grants),
        ),
        Rule(
            A.COMPLETE_STEP,
            Target.SAME,
            (Grant(STEP_KEEPERS, lifecycle.SUBMITTED_NON_TERMINAL),),
            guards=(Guard.OPEN_STEP,),
        ),
        Rule(A.SPLIT_CASE, Target.SAME, (Grant(SPLITTERS, OPEN_NOT_RESOLVED),)),
        Rule(
            A.ACCEPT_REFERRAL,
            Target.SAME,
            (Grant(REFERRAL_ACCEPTERS, lifecycle.ALL_STATES - {lifecycle.DRAFT}),),
            guards=(Guard.REFERRAL_UNDECIDED,),
        ),
        Rule(
            A.REJECT_REFERRAL,
            lifecycle.CANCELLED,
            (Grant(REFERRAL_REJECTERS, OPEN_NOT_RESOLVED),),
            guards=(Guard.REFERRAL_OPEN,),
        ),
    )
}
SPLITTABLE: Final = OPEN_NOT_RESOLVED


def available_actions(
    *, workflow: Workflow, state: State, relations: frozenset[Relation], facts: Facts
) -> list[CaseAction]:
    """The desk actions the viewer may take now, in table order."""
    if facts.deleted:
        return []
    return [
        action
        for action in DESK_RULES
        if lifecycle.decide(
            action=action, workflow=workflow, state=state, relations=relations, facts=facts, rules=DESK_RULES
        ).allowed
    ]
