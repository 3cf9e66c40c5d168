"""Who may see which cases, as SQL. Mirrors ``domain.relations.may_see`` exactly.

Every query and mutation loads cases through here, so a case the actor may not see is simply
not found (``NOT_FOUND``, never ``PERMISSION_DENIED``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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


# Statuses a case can be in once submitted: what the branches split on without a status filter.
SUBMITTED_STATUSES: tuple[CaseStatus, ...] = tuple(status for status in CaseStatus if status is not CaseStatus.DRAFT)


@dataclass(frozen=True)
class Branch:
    """One way of seeing cases, as a condition, and whether it is a large path (index-ordered)."""

    condition: Q
    # True for the paths that grow with the table (a group, a partner's agency, all cases), which
    # an index of 0013 yields in the page's order; False for one user's own cases, fetched and
    # sorted (bounded by that user's involvement).
    index_ordered: bool


def visibility_branches(actor: Actor, statuses: Iterable[CaseStatus] = SUBMITTED_STATUSES) -> list[Branch]:
    """``visibility_filter(actor)`` (deleted cases excluded) as disjoint conditions, one per way of
    seeing a case, each of a shape an index serves in order (``models/migrations/0013_case_page_indexes``).

    A page is then the first rows of each branch merged (``database.case_pages``). The branches
    must be disjoint — a case reachable two ways appears once — so each carries the null-safe
    negation of the paths before it (a row filter). The large paths (a staff member's
    assignments, their groups, a partner's agency, all cases for an administrator) come first and
    split by status (``statuses``: the filter's, or every submitted status), so a status filter is
    an index prefix rather than a walk past closed cases; the caller applies the rest of its
    filter to every branch. Their union is exactly ``visibility_filter``
    (``tests/database/test_case_pages.py`` checks it against the single condition).
    """
    me = actor.user_id
    live = Q(deleted_at__isnull=True)
    split = sorted({status for status in statuses if status is not CaseStatus.DRAFT}, key=lambda s: s.value)
    # Drafts are seen by their author alone, whoever else they concern (may_see).
    own_drafts = Branch(Q(Q(status=CaseStatus.DRAFT, author_id=me), live), index_ordered=False)
    if actor.has(Role.ADMIN):
        return [own_drafts, *(Branch(Q(Q(status=status), live), index_ordered=True) for status in split)]
    branches = [own_drafts]
    submitted = Q(~Q(status=CaseStatus.DRAFT), live)
    # Null-safe "not on an earlier path" (NOT (x = v) is unknown, not true, when x is NULL).
    earlier: list[Q] = []
    if actor.is_staff:
        # An agent's assignments grow with the table too. First, so that the group walks skip
        # the few of them in the agent's groups, rather than this walk skipping all of those.
        branches.extend(Branch(Q(Q(assigned_to_id=me, status=status), live), index_ordered=True) for status in split)
        earlier.append(Q(Q(assigned_to_id__isnull=True), ~Q(assigned_to_id=me), join_type=Q.OR))
    if actor.is_staff and actor.group_ids:
        groups = sorted(actor.group_ids)
        branches.extend(
            Branch(Q(Q(assignment_group_id=group, status=status), live, *earlier), index_ordered=True)
            for group in groups
            for status in split
        )
        earlier.append(Q(Q(assignment_group_id__isnull=True), ~Q(assignment_group_id__in=groups), join_type=Q.OR))
    if actor.has(Role.PARTNER) and actor.agency:
        agency = actor.agency
        branches.extend(
            Branch(Q(Q(referred_agency=agency, status=status), live, *earlier), index_ordered=True) for status in split
        )
        earlier.append(Q(Q(referred_agency__isnull=True), ~Q(referred_agency=agency), join_type=Q.OR))
    branches.append(Branch(Q(Q(requester_id=me), submitted, *earlier), index_ordered=False))
    earlier.append(~Q(requester_id=me))  # requester_id is never NULL
    if actor.has(Role.FIELD_AGENT):
        branches.append(Branch(Q(Q(inspector_id=me), submitted, *earlier), index_ordered=False))
        earlier.append(Q(Q(inspector_id__isnull=True), ~Q(inspector_id=me), join_type=Q.OR))
        tasks = Subquery(CaseTask.filter(assignee_id=me).values("case_id"))
        branches.append(Branch(Q(Q(id__in=tasks), submitted, *earlier), index_ordered=False))
    return branches


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
