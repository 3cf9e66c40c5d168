"""Live queue counters: open cases of a group per status, counted in the database."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass

from tortoise.functions import Count

from casegraph._compat import tortoise_queryset
from casegraph.database.case_counts import group_status_counts
from casegraph.domain.enums import CaseStatus
from casegraph.domain.lifecycle import TERMINAL_STATUSES
from casegraph.domain.relations import Actor
from casegraph.events.hub import EventHub, head_sequence, refresh_actors, refreshed_actors
from casegraph.services.visibility import visible_cases
from models import Case


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


@dataclass(frozen=True)
class GroupCounts:
    """A group's open cases as of ``head``: submitted ones per status, drafts per author."""

    head: int
    submitted: dict[CaseStatus, int]
    drafts: dict[str, int]


class SharedRecounts:
    """Recounts of a group's queue shared by all its counter subscribers.

    ``count_by_status`` per subscriber is a count per subscriber per burst. Here a recount
    needed after event N reuses the group's latest counts if they were taken at N or later
    (the log head is read before counting), else waits for the one running or runs one: two
    statements for every subscriber of the group. What each may see is unchanged: a staff
    member of the group sees every submitted case of it and their own drafts
    (``services.visibility``), so those counts are exact for them; anyone else (a member who is
    not staff, or no longer a member) is counted alone, as before.

    ``recounts`` and ``alone`` count what ran: the regression guard of the sharing.
    """

    def __init__(self) -> None:
        self._latest: dict[int, GroupCounts] = {}
        self._running: dict[int, asyncio.Task[GroupCounts]] = {}
        self.recounts = 0
        self.alone = 0

    async def count(self, *, actor: Actor, group_id: int, at_least: int) -> tuple[dict[CaseStatus, int], int]:
        """The actor's counts of the group, taken at event ``at_least`` or later."""
        counts = await self.group_counts(group_id, at_least)
        fresh = (await refresh_actors([actor]))[actor]
        if not (fresh.is_staff and group_id in fresh.group_ids):
            self.alone += 1
            return await count_by_status(actor=actor, group_id=group_id)
        mine = counts.drafts.get(fresh.user_id, 0)
        return ({**counts.submitted, CaseStatus.DRAFT: mine} if mine else dict(counts.submitted)), counts.head

    async def group_counts(self, group_id: int, at_least: int) -> GroupCounts:
        """The group's counts taken at event ``at_least`` or later (one recount for all who wait)."""
        while True:
            latest = self._latest.get(group_id)
            if latest is not None and latest.head >= at_least:
                return latest
            task = self._running.get(group_id)
            if task is None:
                task = self._running[group_id] = asyncio.ensure_future(self._recount(group_id))
            # Shielded: one subscriber going away must not cancel the others' recount.
            counts = await asyncio.shield(task)
            if counts.head >= at_least:
                return counts
            # That recount began before event ``at_least`` was committed: take the next one.

    async def _recount(self, group_id: int) -> GroupCounts:
        try:
            self.recounts += 1
            head = await head_sequence()
            open_cases = Case.filter(assignment_group_id=group_id, deleted_at__isnull=True).exclude(
                status__in=list(TERMINAL_STATUSES)
            )
            # Submitted cases from the maintained counts (migration 0014): no scan of the group's cases.
            counted = await group_status_counts(
                tortoise_queryset.connection_for(open_cases),
                group_id,
                excluded=sorted(status.value for status in TERMINAL_STATUSES),
            )
            submitted = {CaseStatus(status): n for status, n in counted.items()}
            drafts = {
                str(row["author_id"]): int(row["n"])
                for row in await open_cases.filter(status=CaseStatus.DRAFT)
                .annotate(n=Count("id"))
                .group_by("author_id")
                .values("author_id", "n")
            }
            counts = GroupCounts(head=head, submitted=submitted, drafts=drafts)
            latest = self._latest.get(group_id)
            if latest is None or latest.head <= head:
                self._latest[group_id] = counts
            return counts
        finally:
            self._running.pop(group_id, None)


_shared: weakref.WeakKeyDictionary[EventHub, SharedRecounts] = weakref.WeakKeyDictionary()


def shared_recounts(hub: EventHub) -> SharedRecounts:
    """The recounts shared by the queue-counter subscribers of ``hub`` (one per process)."""
    recounts = _shared.get(hub)
    if recounts is None:
        recounts = _shared[hub] = SharedRecounts()
    return recounts
