"""Which maintained counts make up an actor's total of visible cases: ``visibility_filter`` as terms.

``services.visibility`` says who may see a case; a total of what an actor may see is the same
rule taken apart into terms the counts table and per-user indexes answer
(``database.case_counts``): an administrator's counted cases of every group, a staff member's
of their groups, a partner's of its agency, the cases a user is party to as ``visibility_filter``
names them, and the user's own drafts. The property test of ``tests/services/test_case_totals.py``
holds the two to the same numbers.

Only filters the counts carry (statuses, stages) can be served so: ``case_queries`` leaves any
other (case type, group, assignee, requester, priority, text, deleted cases) to ``count(*)``
over the visibility condition.
"""

from __future__ import annotations

from collections.abc import Iterable

from casegraph.database.case_counts import CountScope
from casegraph.domain.enums import CaseStage, CaseStatus, Role
from casegraph.domain.relations import Actor


def count_scope(actor: Actor, *, statuses: Iterable[CaseStatus] = (), stages: Iterable[CaseStage] = ()) -> CountScope:
    """The terms of the total of cases ``actor`` may see (deleted ones not included), restricted
    to ``statuses`` and ``stages`` when given."""
    status_values = tuple(sorted({status.value for status in statuses}))
    stage_values = tuple(sorted({stage.value for stage in stages}))
    if actor.has(Role.ADMIN):
        return CountScope(user_id=actor.user_id, every_group=True, statuses=status_values, stages=stage_values)
    columns = ["requester_id"]
    groups: tuple[int, ...] = ()
    if actor.is_staff:
        columns.append("assigned_to_id")
        groups = tuple(sorted(actor.group_ids))
    field_agent = actor.has(Role.FIELD_AGENT)
    if field_agent:
        columns.append("inspector_id")
    agency = actor.agency if actor.has(Role.PARTNER) and actor.agency else None
    return CountScope(
        user_id=actor.user_id,
        group_ids=groups,
        agency=agency,
        user_columns=tuple(columns),
        task_assignee=field_agent,
        statuses=status_values,
        stages=stage_values,
    )
