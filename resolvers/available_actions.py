"""``availableActions`` = what the viewer may do now: the life-cycle table's verdict and the desk
actions' (``domain/desk_actions.py``), minus what the desk rules would refuse.

The tables alone would offer, say, "propose solution" on a parent whose children are open, or
"start work" while a required playbook step of the stage is open; the mutation would then be
refused. The same pure rules the checks use decide here, on data batched through the
request's loaders (so a list of cases costs a fixed number of queries).
"""

from __future__ import annotations

from collections.abc import Mapping

from casegraph.domain import desk_actions, lifecycle
from casegraph.domain.case_tree import waits_for_children
from casegraph.domain.enums import CaseAction, Relation
from casegraph.domain.playbooks import is_gated
from casegraph.services.records import CaseRecord
from resolvers.loaders import Loaders, OpenChildrenCountByCase, OpenRequiredStagesByCase, PlaybookEnforcedByCaseType


async def available_actions(
    *, loaders: Loaders, record: CaseRecord, relations: frozenset[Relation], facts: lifecycle.Facts
) -> list[CaseAction]:
    offered: dict[CaseAction, Mapping[CaseAction, lifecycle.Rule]] = {
        **{
            a: lifecycle.RULES
            for a in lifecycle.available_actions(
                workflow=record.workflow, state=record.state, relations=relations, facts=facts
            )
        },
        **{
            a: desk_actions.DESK_RULES
            for a in desk_actions.available_actions(
                workflow=record.workflow, state=record.state, relations=relations, facts=facts
            )
        },
    }
    targets = {
        action: decision.to
        for action, rules in offered.items()
        if (
            decision := lifecycle.decide(
                action=action,
                workflow=record.workflow,
                state=record.state,
                relations=relations,
                facts=facts,
                rules=rules,
            )
        ).to
        is not None
    }
    waiting = {a for a, t in targets.items() if waits_for_children(record.status, t[1])}
    gated = {a for a, t in targets.items() if is_gated(action=a, state=record.state, target=t, relations=relations)}
    blocked: set[CaseAction] = set()
    if waiting and await loaders[OpenChildrenCountByCase].load(record.id):
        blocked |= waiting
    if (
        gated
        and record.case_type_id is not None
        and record.stage in await loaders[OpenRequiredStagesByCase].load(record.id)
        and await loaders[PlaybookEnforcedByCaseType].load(record.case_type_id)
    ):
        blocked |= gated
    return [action for action in offered if action not in blocked]
