"""Live queue counters: open cases of a group per status, counted in the database."""

from __future__ import annotations

from tortoise.functions import Count

from casegraph.domain.enums import CaseStatus
from casegraph.domain.lifecycle import TERMINAL_STATUSES
from casegraph.domain.relations import Actor
from casegraph.events.hub import head_sequence, refreshed_actors
from casegraph.services.visibility import visible_cases


async def count_by_status(*, actor: Actor, group_id: int) -> tuple[dict[CaseStatus, int], int]:
    """Non-terminal cases of the group the actor may see, per status, and the log head read first.

    The head is read before counting, so a counter tagged with sequence N includes at least
    every event up to N.
    """
    head = await head_sequence()
    fresh = (await refreshed_actors([actor]))[actor.user_id]
    rows = (
        await visible_cases(fresh)
        .filter(assignment_group_id=group_id)
        .exclude(status__in=list(TERMINAL_STATUSES))
        .annotate(n=Count("id"))
        .group_by("status")
        .values("status", "n")
    )
    return {CaseStatus(row["status"]): int(row["n"]) for row in rows}, head
