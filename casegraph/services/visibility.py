"""Who may see which cases, as SQL. Mirrors ``domain.relations.may_see`` exactly.

Every query and mutation loads cases through here, so a case the actor may not see is simply
not found (``NOT_FOUND``, never ``PERMISSION_DENIED``).
"""

from __future__ import annotations

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from casegraph.database.case_rows import case_row_by_id
from casegraph.domain.enums import CaseStatus, Role
from casegraph.domain.errors import not_found
from casegraph.domain.relations import Actor
from casegraph.domain.validation import uuid_key
from casegraph.services.records import CASE_COLUMNS, CaseRecord
from models import Case, CaseTask


def visibility_filter(actor: Actor, *, include_deleted: bool = False) -> Q:
    me = actor.user_id
    own_draft = Q(status=CaseStatus.DRAFT, author_id=me)
    seen: list[Q] = [Q(requester_id=me)]
    if actor.has(Role.ADMIN):
        seen = [Q(id__isnull=False)]
    else:
        if actor.is_staff:
            seen.append(Q(assigned_to_id=me))
            if actor.group_ids:
                seen.append(Q(assignment_group_id__in=sorted(actor.group_ids)))
        if actor.has(Role.FIELD_AGENT):
            seen.append(Q(inspector_id=me))
            seen.append(Q(id__in=Subquery(CaseTask.filter(assignee_id=me).values("case_id"))))
        if actor.has(Role.PARTNER) and actor.agency:
            seen.append(Q(referred_agency=actor.agency))
    submitted = Q(Q(*seen, join_type=Q.OR), ~Q(status=CaseStatus.DRAFT))
    visible = Q(own_draft, submitted, join_type=Q.OR)
    if include_deleted and actor.has(Role.ADMIN):
        return visible
    return Q(visible, Q(deleted_at__isnull=True))


def visible_cases(actor: Actor, *, include_deleted: bool = False) -> QuerySet[Case]:
    return Case.filter(visibility_filter(actor, include_deleted=include_deleted))


async def load_visible_case(actor: Actor, case_id: str, *, include_deleted: bool = False) -> CaseRecord:
    """The case as the actor may see it, or NOT_FOUND (also for ids that are not UUIDs as we issue them)."""
    if uuid_key(case_id) is None:
        raise not_found()
    # visibility_filter is a pure function of these: its SQL is rendered once per actor (issue 8).
    row = await case_row_by_id(
        visible_cases(actor, include_deleted=include_deleted),
        condition_key=("visible", actor, include_deleted),
        case_id=case_id,
        columns=CASE_COLUMNS,
    )
    if row is None:
        raise not_found()
    return CaseRecord.from_row(row)
