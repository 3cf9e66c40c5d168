"""In-process fan-out of the event log to live subscribers.

The broadcast message only says "new events exist"; the hub then reads them from the log once
(``sequence > last dispatched``), loads their cases once, and offers each event to every local
subscriber whose filter and visibility admit it. Group memberships are re-read on every batch,
so an agent removed from a group stops receiving its cases at the next event.

A slow subscriber's queue is bounded: when it overflows the queue is dropped and the subscriber
re-reads what it missed from the log at its own pace (``feed.py``), so memory stays bounded and
nothing is lost. A periodic poll of the log's head backs up the broadcast channel: an event
whose publish was lost (a crash between commit and publish, a broadcast outage) still arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, cast

from casegraph.domain.enums import TaskState
from casegraph.domain.relations import Actor, may_see
from casegraph.services.records import CASE_COLUMNS, EVENT_COLUMNS, CaseRecord, EventRecord
from models import Case, CaseEvent, CaseTask, GroupMembership

log = logging.getLogger(__name__)

QUEUE_LIMIT: Final = 256
BATCH: Final = 500
POLL_INTERVAL: Final = 2.0

Delivery = tuple[EventRecord, CaseRecord]
Matcher = Callable[[Actor, EventRecord, CaseRecord], bool]


@dataclass(eq=False)
class Subscription:
    """One live subscriber: who it is (token roles), what it wants, and its bounded queue."""

    actor: Actor
    matches: Matcher
    limit: int = QUEUE_LIMIT
    queue: deque[Delivery] = field(default_factory=deque)
    overflowed: bool = False
    closed_reason: str | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, delivery: Delivery) -> None:
        if self.overflowed:
            return
        if len(self.queue) >= self.limit:
            # Too slow: drop what is queued and let the feed catch up from the log instead.
            self.queue.clear()
            self.overflowed = True
        else:
            self.queue.append(delivery)
        self._ready.set()

    async def wait(self) -> None:
        await self._ready.wait()

    def take(self) -> list[Delivery]:
        items = list(self.queue)
        self.queue.clear()
        self._ready.clear()
        return items


class EventHub:
    def __init__(self, *, poll_interval: float = POLL_INTERVAL) -> None:
        self._subscriptions: set[Subscription] = set()
        self._wake = asyncio.Event()
        self._poll_interval = poll_interval
        self._tasks: list[asyncio.Task[None]] = []
        self.last_sequence = 0
        self.dispatched = 0

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    async def start(self) -> None:
        self.last_sequence = await head_sequence()
        self._tasks = [
            asyncio.create_task(self._dispatch_loop(), name="casegraph-hub-dispatch"),
            asyncio.create_task(self._poll_loop(), name="casegraph-hub-poll"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for subscription in list(self._subscriptions):
            subscription.closed_reason = "server shutting down"
            subscription._ready.set()

    def wake(self, _message: str | None = None) -> None:
        """Something was committed (or we reconnected): read the log. Bursts coalesce."""
        self._wake.set()

    def register(self, subscription: Subscription) -> Subscription:
        self._subscriptions.add(subscription)
        return subscription

    def unregister(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    async def _dispatch_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.drain()
            except Exception:  # noqa: BLE001 - a database hiccup must not kill live feeds
                log.warning("event hub could not read the log; retrying at the next wake-up", exc_info=True)

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                if await head_sequence() > self.last_sequence:
                    self.wake()
            except Exception:  # noqa: BLE001
                log.debug("event hub poll failed", exc_info=True)

    async def drain(self) -> None:
        """Dispatch every event after ``last_sequence``, in order, batch by batch."""
        while True:
            rows = await CaseEvent.filter(sequence__gt=self.last_sequence).order_by("sequence").limit(
                BATCH
            ).values(*EVENT_COLUMNS)
            if not rows:
                return
            events = [EventRecord.from_row(row) for row in rows]
            if self._subscriptions:
                cases, task_assignees = await load_cases({e.case_id for e in events})
                actors = await refreshed_actors(s.actor for s in self._subscriptions)
                for event in events:
                    case = cases.get(event.case_id)
                    if case is None:
                        continue
                    parties = case.parties(task_assignees.get(case.id, frozenset()))
                    for subscription in list(self._subscriptions):
                        actor = actors.get(subscription.actor.user_id, subscription.actor)
                        if subscription.matches(actor, event, case) and may_see(actor, parties):
                            subscription.offer((event, case))
            self.last_sequence = events[-1].sequence
            self.dispatched += len(events)


async def load_cases(case_ids: Iterable[str]) -> tuple[dict[str, CaseRecord], dict[str, frozenset[str]]]:
    """The cases, and who holds tasks on them (field agents see cases through their tasks)."""
    ids = list(case_ids)
    rows = await Case.filter(id__in=ids).values(*CASE_COLUMNS)
    assignees: dict[str, set[str]] = {}
    for case_id, assignee in await CaseTask.filter(
        case_id__in=ids, assignee_id__isnull=False, state__in=list(TaskState)
    ).values_list("case_id", "assignee_id"):
        assignees.setdefault(str(case_id), set()).add(str(assignee))
    cases = {str(row["id"]): CaseRecord.from_row(row) for row in rows}
    return cases, {case_id: frozenset(users) for case_id, users in assignees.items()}


async def refreshed_actors(actors: Iterable[Actor]) -> dict[str, Actor]:
    """Subscribers' actors with group memberships as they are now in the database."""
    by_user = {actor.user_id: actor for actor in actors}
    groups: dict[str, set[int]] = {user: set() for user in by_user}
    managed: dict[str, set[int]] = {user: set() for user in by_user}
    user_ids = list(by_user)
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start:start + 500]
        for user_id, group_id, is_manager in await GroupMembership.filter(user_id__in=chunk).values_list(
            "user_id", "group_id", "is_manager"
        ):
            groups[user_id].add(int(group_id))
            if is_manager:
                managed[user_id].add(int(group_id))
    return {
        user: Actor(
            user_id=user,
            roles=actor.roles,
            group_ids=frozenset(groups[user]),
            managed_group_ids=frozenset(managed[user]),
            agency=actor.agency,
            name=actor.name,
            email=actor.email,
        )
        for user, actor in by_user.items()
    }


async def head_sequence() -> int:
    """The newest event's sequence (0 for an empty log); sequences follow commit order."""
    rows = await CaseEvent.all().order_by("-sequence").limit(1).values_list("sequence", flat=True)
    return int(cast(int, rows[0])) if rows else 0
