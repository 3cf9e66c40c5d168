"""Subscription feeds: replay from the event log, then live, with no gap and no duplicate.

Order of operations is what makes the seam safe: register with the hub *first*, then read the
log, then serve the hub's queue skipping anything at or below the last sequence sent.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Hashable
from dataclasses import dataclass
from enum import Enum
from typing import Final

from tortoise.expressions import Q, Subquery

from casegraph.domain.errors import not_found, validation_failed
from casegraph.domain.relations import Actor
from casegraph.domain.validation import id_number, lookup_key
from casegraph.events.hub import Delivery, EventHub, Matcher, Subscription, head_sequence, load_cases, refreshed_actors
from casegraph.services.column_limits import max_length, max_value
from casegraph.services.records import EVENT_COLUMNS, CaseRecord, EventRecord
from casegraph.services.visibility import load_visible_case, visible_cases
from models import AssignmentGroup, CaseEvent

REPLAY_PAGE: Final = 200


class QueueScope(str, Enum):
    MY_GROUPS = "MY_GROUPS"
    ASSIGNED_TO_ME = "ASSIGNED_TO_ME"


@dataclass(frozen=True)
class FeedFilter:
    """What a feed wants, both as a live predicate and as SQL for the replay.

    ``key`` names the filter: equal keys mean equal predicates (for any actor), so the hub may
    decide once for every subscriber with the same actor and key.
    """

    key: Hashable
    matches: Matcher
    case_q: Callable[[Actor], Q]


def case_filter(case_id: str) -> FeedFilter:
    return FeedFilter(
        key=("case", case_id),
        matches=lambda actor, event, case: event.case_id == case_id,
        case_q=lambda actor: Q(id=case_id),
    )


def every_visible_case() -> FeedFilter:
    return FeedFilter(key=("all",), matches=lambda actor, event, case: True, case_q=lambda actor: Q())


def queue_filter(scope: QueueScope, group_id: int | None) -> FeedFilter:
    if scope is QueueScope.ASSIGNED_TO_ME:
        return FeedFilter(
            key=("assigned",),
            matches=lambda actor, event, case: case.assigned_to_id == actor.user_id,
            case_q=lambda actor: Q(assigned_to_id=actor.user_id),
        )
    if group_id is not None:
        return FeedFilter(
            key=("group", group_id),
            matches=lambda actor, event, case: case.assignment_group_id == group_id and group_id in actor.group_ids,
            case_q=lambda actor: Q(assignment_group_id=group_id) if group_id in actor.group_ids else Q(id__isnull=True),
        )
    return FeedFilter(
        key=("my-groups",),
        matches=lambda actor, event, case: case.assignment_group_id in actor.group_ids,
        case_q=lambda actor: (
            Q(assignment_group_id__in=sorted(actor.group_ids)) if actor.group_ids else Q(id__isnull=True)
        ),
    )


async def group_id_for(code: str | None, actor: Actor) -> int | None:
    if code is None:
        return None
    key = lookup_key(code.strip(), max_length(AssignmentGroup, "code"))
    group = await AssignmentGroup.get_or_none(code=key) if key is not None else None
    if group is None or group.id not in actor.group_ids:
        raise not_found("Assignment group")
    return group.id


def parse_after(after: str | None) -> int | None:
    if after is None:
        return None
    sequence = id_number(after, max_value(CaseEvent, "sequence"))
    if sequence is None:
        raise validation_failed("after", "after must be an event id.")
    return sequence


async def feed(
    *, hub: EventHub, actor: Actor, flt: FeedFilter, after: int | None, queue_limit: int | None = None
) -> AsyncGenerator[Delivery, None]:
    """Events the actor may see and the filter admits, in sequence order, forever."""
    subscription = Subscription(actor=actor, matches=flt.matches)
    if queue_limit is not None:
        subscription.limit = queue_limit
    hub.register(subscription)  # first, so nothing committed from here on can slip past
    try:
        last = after if after is not None else await head_sequence()
        async for delivery in replay(actor=actor, flt=flt, after=last):
            yield delivery
            last = delivery[0].sequence
        while True:
            await subscription.wait()
            if subscription.closed_reason is not None:
                return
            if subscription.overflowed:
                subscription.take()
                subscription.overflowed = False
                async for delivery in replay(actor=actor, flt=flt, after=last):
                    yield delivery
                    last = delivery[0].sequence
                continue
            for delivery in subscription.take():
                if delivery[0].sequence <= last:
                    continue  # already sent by the replay
                yield delivery
                last = delivery[0].sequence
    finally:
        hub.unregister(subscription)


async def replay(
    *, actor: Actor, flt: FeedFilter, after: int, refreshed: bool = False
) -> AsyncGenerator[Delivery, None]:
    """Stored events after ``after`` for cases the actor may see now, page by page.

    ``refreshed``: the caller has just read the actor's memberships (``refresh_actors``).
    """
    fresh = actor if refreshed else (await refreshed_actors([actor]))[actor.user_id]
    cases_q = visible_cases(fresh).filter(flt.case_q(fresh)).values("id")
    while True:
        rows = (
            await CaseEvent.filter(sequence__gt=after, case_id__in=Subquery(cases_q))
            .order_by("sequence")
            .limit(REPLAY_PAGE)
            .values(*EVENT_COLUMNS)
        )
        if not rows:
            return
        events = [EventRecord.from_row(row) for row in rows]
        cases, _ = await load_cases({e.case_id for e in events})
        for event in events:
            case = cases.get(event.case_id)
            if case is not None:
                yield event, case
        after = events[-1].sequence
        if len(rows) < REPLAY_PAGE:
            return


async def check_case_visible(actor: Actor, case_id: str) -> CaseRecord:
    fresh = (await refreshed_actors([actor]))[actor.user_id]
    return await load_visible_case(fresh, case_id)
