"""In-process fan-out of the event log to live subscribers.

The broadcast message only says "new events exist"; the hub then reads them from the log once
(``sequence > last dispatched``), loads their cases once, and offers each event to every local
subscriber whose filter and visibility admit it. Group memberships are re-read on every batch,
so an agent removed from a group stops receiving its cases at the next event.

A slow subscriber's queue is bounded: when it overflows the queue is dropped and the subscriber
re-reads what it missed from the log at its own pace (``feed.py``), so memory stays bounded and
nothing is lost. A periodic poll of the log's head backs up the broadcast channel: an event
whose publish was lost (a crash between commit and publish, a broadcast outage) still arrives.

Two kinds of subscriber are served. A ``Subscription`` has its own queue, read by a ``feed``
generator (one task per subscriber). A ``Followed`` audience stands for many subscribers at
once — all with the same token actor and filter — and has no queue: for each event the hub
decides once per audience, then hands every audience it reached to the audience's sink in one
call (``casegraph.fanout`` executes the selection once per visibility class and writes the
frames). Ten thousand dashboards of fifty agents are fifty decisions per event, not 10,000.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, Protocol, cast

from casegraph.domain.enums import TaskState
from casegraph.domain.relations import Actor, CaseParties, may_see
from casegraph.outages import OutageLog, is_outage
from casegraph.services.records import CASE_COLUMNS, EVENT_COLUMNS, CaseRecord, EventRecord
from models import Case, CaseEvent, CaseTask, GroupMembership

log = logging.getLogger(__name__)

QUEUE_LIMIT: Final = 256
BATCH: Final = 500
POLL_INTERVAL: Final = 2.0

Delivery = tuple[EventRecord, CaseRecord]
Matcher = Callable[[Actor, EventRecord, CaseRecord], bool]


class Followed(Protocol):
    """Subscribers the hub decides for at once: same token actor, same filter, same sink."""

    @property
    def actor(self) -> Actor: ...

    @property
    def sink(self) -> FanoutSink: ...

    def matches(self, actor: Actor, event: EventRecord, case: CaseRecord) -> bool: ...


class FanoutSink(Protocol):
    async def deliver(self, event: EventRecord, case: CaseRecord, reached: Sequence[tuple[Followed, Actor]]) -> None:
        """Serve ``event`` to the audiences it reached, each with its actor as it is now."""

    def hub_stopped(self) -> None:
        """The hub stops: end every subscriber (the server is shutting down)."""


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
        self._audiences: dict[int, Followed] = {}  # by id(): insertion order is dispatch order
        self._wake = asyncio.Event()
        self._poll_interval = poll_interval
        self._tasks: list[asyncio.Task[None]] = []
        self.last_sequence = 0
        self.dispatched = 0
        self.outage = OutageLog(log, "event log (live event hub)")

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    @property
    def audience_count(self) -> int:
        return len(self._audiences)

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
        sinks = {id(audience.sink): audience.sink for audience in self._audiences.values()}
        self._audiences.clear()
        for sink in sinks.values():
            sink.hub_stopped()

    def wake(self, _message: str | None = None) -> None:
        """Something was committed (or we reconnected): read the log. Bursts coalesce."""
        self._wake.set()

    def register(self, subscription: Subscription) -> Subscription:
        self._subscriptions.add(subscription)
        return subscription

    def unregister(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def follow(self, audience: Followed) -> None:
        """From now on every dispatched event the audience may see reaches its sink."""
        self._audiences[id(audience)] = audience

    def unfollow(self, audience: Followed) -> None:
        self._audiences.pop(id(audience), None)

    async def _dispatch_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.drain()
            except Exception as error:  # a database hiccup must not kill live feeds
                if is_outage(error):
                    # Once when it starts, once when it ends: not a traceback per wake-up.
                    self.outage.failed(error)
                else:
                    log.warning("event hub could not read the log; retrying at the next wake-up", exc_info=True)
            else:
                self.outage.succeeded()

    @property
    def idle(self) -> bool:
        """Nobody here to dispatch to."""
        return not self._subscriptions and not self._audiences

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                await self.poll()
            except Exception:
                log.debug("event hub poll failed", exc_info=True)

    async def poll(self) -> None:
        """Catch what a lost publish did not announce; while idle, keep up with the log's head."""
        head = await head_sequence()
        # Checked after the read, with no await before the assignment: whoever registers from
        # here on reads the log after this read, so the events up to ``head`` are theirs to read.
        if self.idle:
            self.last_sequence = max(self.last_sequence, head)
        elif head > self.last_sequence:
            self.wake()

    async def drain(self) -> None:
        """Dispatch every event after ``last_sequence``, in order, batch by batch.

        Idle, it reads nothing: a commit with no one listening in this process costs no query
        here (it did cost a read of the log racing the committing request for the database);
        the poll keeps ``last_sequence`` near the head meanwhile.
        """
        if self.idle:
            return
        while True:
            rows = (
                await CaseEvent.filter(sequence__gt=self.last_sequence)
                .order_by("sequence")
                .limit(BATCH)
                .values(*EVENT_COLUMNS)
            )
            if not rows:
                return
            events = [EventRecord.from_row(row) for row in rows]
            if self._subscriptions or self._audiences:
                cases, task_assignees = await load_cases({e.case_id for e in events})
                actors = await refresh_actors(
                    [s.actor for s in self._subscriptions] + [a.actor for a in self._audiences.values()]
                )
                for event in events:
                    case = cases.get(event.case_id)
                    if case is None:
                        continue
                    parties = case.parties(task_assignees.get(case.id, frozenset()))
                    for subscription in list(self._subscriptions):
                        actor = actors.get(subscription.actor, subscription.actor)
                        if subscription.matches(actor, event, case) and may_see(actor, parties):
                            subscription.offer((event, case))
                    if self._audiences:
                        await self._serve_audiences(event, case, parties, actors)
            self.last_sequence = events[-1].sequence
            self.dispatched += len(events)

    async def _serve_audiences(
        self, event: EventRecord, case: CaseRecord, parties: CaseParties, actors: dict[Actor, Actor]
    ) -> None:
        """One decision per audience, then one call per sink, in event order.

        An audience that joined after the batch's actors were read is judged by its token actor
        (whose memberships were read when it connected); the next batch refreshes it.
        """
        reached: dict[int, tuple[FanoutSink, list[tuple[Followed, Actor]]]] = {}
        seen: dict[Actor, bool] = {}
        for audience in list(self._audiences.values()):
            actor = actors.get(audience.actor, audience.actor)
            visible = seen.get(actor)
            if visible is None:
                visible = seen[actor] = may_see(actor, parties)
            if visible and audience.matches(actor, event, case):
                sink = audience.sink
                reached.setdefault(id(sink), (sink, []))[1].append((audience, actor))
        for sink, audiences in reached.values():
            await sink.deliver(event, case, audiences)


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
    """Actors by user id, with group memberships as they are now in the database."""
    return {fresh.user_id: fresh for fresh in (await refresh_actors(actors)).values()}


async def refresh_actors(actors: Iterable[Actor]) -> dict[Actor, Actor]:
    """Subscribers' token actors, each with group memberships as they are now in the database.

    Keyed by the whole token actor: two tokens of one user may carry different roles, and each
    keeps its own.
    """
    distinct = set(actors)
    user_ids = sorted({actor.user_id for actor in distinct})
    groups: dict[str, set[int]] = {user: set() for user in user_ids}
    managed: dict[str, set[int]] = {user: set() for user in user_ids}
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start : start + 500]
        for user_id, group_id, is_manager in await GroupMembership.filter(user_id__in=chunk).values_list(
            "user_id", "group_id", "is_manager"
        ):
            groups[user_id].add(int(group_id))
            if is_manager:
                managed[user_id].add(int(group_id))
    fresh_groups = {user: frozenset(ids) for user, ids in groups.items()}
    fresh_managed = {user: frozenset(ids) for user, ids in managed.items()}
    return {
        actor: replace(actor, group_ids=fresh_groups[actor.user_id], managed_group_ids=fresh_managed[actor.user_id])
        for actor in distinct
    }


async def head_sequence() -> int:
    """The newest event's sequence (0 for an empty log); sequences follow commit order."""
    rows = await CaseEvent.all().order_by("-sequence").limit(1).values_list("sequence", flat=True)
    return int(cast(int, rows[0])) if rows else 0
