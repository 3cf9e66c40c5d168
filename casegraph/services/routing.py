"""Automatic assignment of newly submitted cases (issue 4, *Routing*).

A submitted case of an auto-assign case type goes to the eligible agent of its group with the
fewest active cases; ties go to the one idle longest (oldest last assignment, never assigned
first). Eligible: a member of the group with the AGENT role, marked available, holding every
skill the case type asks for. The assignment is its own recorded ASSIGN event by the system
(no actor), made right after the submission committed; as with a manager's ASSIGN in NEW, the
agent then accepts the case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from casegraph.database.counters import next_value
from casegraph.domain.enums import CaseAction, CaseEventType, CaseStatus, Role
from casegraph.services.case_changes import ActionResult, SideEffect, StaleCase, commit_change
from casegraph.services.publisher import Publisher
from casegraph.services.records import CASE_COLUMNS, CaseRecord, EventRecord
from models import Case, CaseType, GroupMembership, User

# Statuses in which a case counts against its assignee's load.
INACTIVE_STATUSES: Final = (CaseStatus.DRAFT, CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CANCELLED)


@dataclass(frozen=True)
class Candidate:
    user_id: str
    active_cases: int
    last_assigned_at: datetime | None

    def sort_key(self) -> tuple[int, int, datetime | None, str]:
        # Fewest active first; then never-assigned, then longest idle; then a stable order.
        idle_rank = 0 if self.last_assigned_at is None else 1
        return (self.active_cases, idle_rank, self.last_assigned_at, self.user_id)


def choose(candidates: Sequence[Candidate]) -> Candidate | None:
    """The agent routing picks among eligible candidates (pure)."""
    return min(candidates, key=Candidate.sort_key) if candidates else None


async def eligible_candidates(
    *, group_id: int, skills: Sequence[str], requester_id: str | None = None
) -> list[Candidate]:
    """Available agents of the group with the skills; never the case's own requester."""
    members = (
        await GroupMembership.filter(group_id=group_id)
        .exclude(user_id=requester_id or "")
        .values_list("user_id", flat=True)
    )
    needed = set(skills)
    users = await User.filter(id__in=list(members), available=True).values("id", "roles", "skills", "last_assigned_at")
    eligible = [u for u in users if Role.AGENT.value in (u["roles"] or []) and needed <= set(u["skills"] or [])]
    if not eligible:
        return []
    loads = dict(
        await Case.filter(assigned_to_id__in=[u["id"] for u in eligible], deleted_at__isnull=True)
        .exclude(status__in=list(INACTIVE_STATUSES))
        .annotate(n=Count("id"))
        .group_by("assigned_to_id")
        .values_list("assigned_to_id", "n")
    )
    return [Candidate(str(u["id"]), int(loads.get(u["id"], 0)), u["last_assigned_at"]) for u in eligible]


async def route_if_automatic(*, case: CaseRecord, now: datetime, publisher: Publisher) -> CaseRecord:
    """Assign a just-submitted case of an auto-assign type; returns the case as it now stands.

    The choice and the assignment happen under the group's routing counter lock, so concurrent
    submissions to one group are routed one after another against up-to-date loads.
    """
    if case.status is not CaseStatus.NEW or case.assigned_to_id is not None or case.case_type_id is None:
        return case
    case_type = await CaseType.get_or_none(id=case.case_type_id)
    if case_type is None or not case_type.auto_assign or case.assignment_group_id is None:
        return case
    result: ActionResult | None = None
    try:
        async with in_transaction():
            await next_value(f"routing:{case.assignment_group_id}")
            chosen = choose(
                await eligible_candidates(
                    group_id=case.assignment_group_id, skills=case_type.skills or [], requester_id=case.requester_id
                )
            )
            if chosen is None:
                return case
            result = await commit_change(
                case=case,
                actor_id=None,
                action=CaseAction.ASSIGN,
                event_type=CaseEventType.CASE_UPDATED,
                target=case.state,
                changes={"assigned_to_id": chosen.user_id},
                summary={"assigneeId": chosen.user_id, "routed": True, "activeCases": chosen.active_cases},
                now=now,
                side_effects=[_stamp_assignment(chosen.user_id, now)],
            )
    except StaleCase:
        # Someone acted on the case first (took it, cancelled it): routing is moot.
        rows = await Case.filter(id=case.id).values(*CASE_COLUMNS)
        return CaseRecord.from_row(rows[0]) if rows else case
    await publisher.published([result.event])
    return result.case


def _stamp_assignment(user_id: str, now: datetime) -> SideEffect:
    async def stamp(case: CaseRecord, event: EventRecord) -> None:
        await User.filter(id=user_id).update(last_assigned_at=now)

    return stamp
