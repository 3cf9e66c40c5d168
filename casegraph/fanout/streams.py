"""Shared streams: subscriptions that follow a state (who is on a case, a queue's counts).

``casePresence`` and ``queueCounters`` send a new value whenever their state changes. Served by
Strawberry, every subscriber had a task, a generator and its own execution of the selection per
change (its viewers' user look-ups; for the counters a GraphQL execution and a membership read
each). Here a subscriber is a ``StreamFollower`` of the stream of its state in this process —
one per case's presence, one per group's counters — with no task and no generator. When the
state changes the stream executes each plan's selection once per value and visibility class
(``classes.serve_classes``, as the dispatcher does for events) and writes the same payload to
every subscriber of the class, only the operation id differing.

- presence: one listener on the board per case, one heartbeat for all the case's subscribers of
  this process; a subscriber announces itself when it starts and is announced gone when it
  closes (its socket closed, ``stop``/``complete``, or the session ended it: a user who loses
  access disappears at once);
- counters: the hub decides per token actor whether an event concerns the group (memberships
  read once per batch of events for all, ``hub.refresh_actors``); one recount of the group
  serves everyone woken (``SharedRecounts``), and subscribers with the same counts share one
  execution. Someone who is not staff of the group is counted alone, as before.

``Streams.executions`` counts the shared executions (the regression guard: one per plan, value
and class per change, whatever the number of subscribers); ``Streams.alone`` the executions for
one subscriber (its first counters, a value re-sent after its socket dropped frames).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, Final

import orjson
from strawberry.schema import Schema

from casegraph.domain.enums import CaseStatus
from casegraph.domain.relations import Actor
from casegraph.events.feed import QueueScope, queue_filter
from casegraph.events.hub import EventHub
from casegraph.events.presence import HEARTBEAT, Viewer
from casegraph.fanout.classes import serve_classes
from casegraph.fanout.execution import execute_payload, failure_payload
from casegraph.fanout.followers import Owner
from casegraph.fanout.outlet import Outlet
from casegraph.fanout.plans import Plan
from casegraph.fanout.registration import CountersSpec, PresenceSpec, StreamSpec
from casegraph.fanout.viewer_reads import recording_context
from casegraph.outages import OutageLog, is_outage
from casegraph.services.queue_counts import count_by_status, shared_recounts
from casegraph.services.records import CaseRecord, EventRecord
from resolvers.subscriptions import COUNTER_MIN_INTERVAL
from schema.context import Context

log = logging.getLogger(__name__)

RETRY_DELAY: Final = 1.0
# Recounts retry while the database is away: one warning when that starts, one when it ends.
RECOUNT_OUTAGE: Final = OutageLog(log, "event log (queue counters recounting)")

# Announcements and re-sends in flight (the event loop keeps only weak references to tasks).
_background: set[asyncio.Future[Any]] = set()


def _in_background(work: Any) -> None:
    task = asyncio.ensure_future(work)
    _background.add(task)
    task.add_done_callback(_background.discard)


class StreamFollower:
    """One ``casePresence``/``queueCounters`` subscription of one connection: a few slots."""

    __slots__ = (
        "stream",
        "plan",
        "outlet",
        "context",
        "owner",
        "operation_id",
        "spec",
        "frame_head",
        "released",
        "closed",
        "token_actor",
        "key",
        "since",
        "head",
        "__weakref__",
    )

    def __init__(
        self,
        *,
        stream: SharedStream,
        plan: Plan,
        outlet: Outlet,
        context: Context,
        owner: Owner,
        operation_id: str,
        spec: StreamSpec,
        released: Callable[[Plan], None],
        frame_type: str = "next",
    ) -> None:
        self.stream = stream
        self.plan = plan
        self.outlet = outlet
        self.context = context
        self.owner = owner
        self.operation_id = operation_id
        self.spec = spec
        self.released = released
        self.frame_head = '{"id":' + _json_string(operation_id) + ',"type":' + _json_string(frame_type) + ',"payload":'
        self.closed = False
        self.token_actor = self.actor
        self.key = uuid.uuid4().hex  # this subscription's entry on a presence board
        self.since = 0.0
        self.head: int | None = None  # counters: the log sequence the last value was counted at

    @property
    def actor(self) -> Actor:
        """As the connection's last re-authorization found it (a lost group closes the socket)."""
        actor = self.context.actor
        assert actor is not None, "a stream follower is made for an authenticated connection"
        return actor

    async def start(self, after: int | None = None) -> None:
        """Send the first value (``after`` means nothing to a state), then follow the changes."""
        await self.stream.start(self)

    def write(self, payload: str) -> None:
        if not self.closed:
            self.outlet.write(self.frame_head + payload + "}", self, 0)

    def fell_behind(self, after: int) -> None:
        """The outlet dropped a frame: a state replaces the ones before it, so re-send the latest."""
        if not self.closed:
            _in_background(self.stream.resend(self))

    def end(self, payload: str | None = None) -> None:
        """The server ends the subscription: a last payload (an error), ``complete``, closed."""
        if self.closed:
            return
        if payload is not None:
            self.outlet.write(self.frame_head + payload + "}")
        self.outlet.write('{"id":' + _json_string(self.operation_id) + ',"type":"complete"}')
        self.close()
        self.owner.ended(self.operation_id)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.stream.leave(self)
        self.released(self.plan)


def _serve_one(follower: StreamFollower, payload: str, failed: bool) -> None:
    if failed:
        follower.end(payload)
    else:
        follower.write(payload)


class Streams:
    """The shared streams of one process (one per state followed), and what they executed."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._streams: dict[Hashable, SharedStream] = {}
        self.executions = 0
        self.alone = 0

    def __len__(self) -> int:
        return len(self._streams)

    def follow(
        self,
        *,
        spec: StreamSpec,
        plan: Plan,
        outlet: Outlet,
        context: Context,
        owner: Owner,
        operation_id: str,
        released: Callable[[Plan], None],
        frame_type: str = "next",
    ) -> StreamFollower:
        """A follower of the stream of ``spec``'s state, joined (not yet started)."""
        key: Hashable
        if isinstance(spec, PresenceSpec):
            key = ("presence", id(spec.live), spec.case_id)
        else:
            key = ("counters", id(spec.hub), spec.group_id)
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = (
                PresenceStream(self, key, spec) if isinstance(spec, PresenceSpec) else CounterStream(self, key, spec)
            )
        follower = StreamFollower(
            stream=stream,
            plan=plan,
            outlet=outlet,
            context=context,
            owner=owner,
            operation_id=operation_id,
            spec=spec,
            released=released,
            frame_type=frame_type,
        )
        stream.join(follower)
        return follower

    def forget(self, stream: SharedStream) -> None:
        if self._streams.get(stream.key) is stream:
            del self._streams[stream.key]

    async def serve(self, root: object, members: Iterable[tuple[StreamFollower, Actor]]) -> None:
        """``root`` to each member: one execution per plan and visibility class."""
        by_plan: dict[Plan, dict[Actor, list[StreamFollower]]] = {}
        for follower, actor in members:
            if not follower.closed:
                by_plan.setdefault(follower.plan, {}).setdefault(actor, []).append(follower)
        for plan, by_actor in by_plan.items():
            self.executions += await serve_classes(self.schema, plan, root, list(by_actor.items()), _serve_one)

    async def serve_alone(self, follower: StreamFollower, root: object) -> None:
        """``root`` to one follower, executed for it alone."""
        self.alone += 1
        context = recording_context(follower.context, follower.actor)
        try:
            payload = await execute_payload(self.schema, follower.plan, root, context)
        except Exception as error:  # as in ``serve_classes``
            log.exception("executing a subscription event failed")
            follower.end(await failure_payload(self.schema, follower.plan, context, error))
            return
        follower.write(payload)


class SharedStream:
    """The subscribers of one state in this process."""

    def __init__(self, streams: Streams, key: Hashable) -> None:
        self.streams = streams
        self.key = key
        self.followers: dict[StreamFollower, None] = {}

    def join(self, follower: StreamFollower) -> None:
        self.followers[follower] = None

    def leave(self, follower: StreamFollower) -> None:
        if self.followers.pop(follower, False) is None:
            self.left(follower)
            if not self.followers:
                self.streams.forget(self)
                self.stop()

    async def start(self, follower: StreamFollower) -> None:
        raise NotImplementedError

    async def resend(self, follower: StreamFollower) -> None:
        await follower.outlet.drained()
        root = self.latest(follower)
        if root is not None and not follower.closed:
            await self.streams.serve_alone(follower, root)

    def latest(self, follower: StreamFollower) -> object | None:
        """The last value sent to ``follower`` (None: none yet)."""
        raise NotImplementedError

    def left(self, follower: StreamFollower) -> None:
        """``follower`` closed."""

    def stop(self) -> None:
        """Nobody follows the state any more."""


class PresenceStream(SharedStream):
    """Who is on one case: one board listener and one heartbeat for its subscribers here."""

    def __init__(self, streams: Streams, key: Hashable, spec: PresenceSpec) -> None:
        super().__init__(streams, key)
        self.live = spec.live
        self.case_id = spec.case_id
        self.render = spec.render
        self._changed = asyncio.Event()
        self._pending: dict[StreamFollower, None] = {}  # started, not yet sent a view
        self._served: dict[StreamFollower, None] = {}
        self._last: list[Viewer] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._beat: asyncio.Task[None] | None = None
        self.live.presence.listen(self.case_id, self._changed)

    def _here(self, follower: StreamFollower) -> dict[str, Any]:
        spec = follower.spec
        assert isinstance(spec, PresenceSpec)
        entry = self.live.presence.entry(self.case_id, follower.key)
        editing = entry.editing if entry is not None else spec.editing
        return {
            "op": "here",
            "case": self.case_id,
            "conn": follower.key,
            "user": spec.user_id,
            "name": spec.name,
            "editing": editing,
            "since": follower.since,
        }

    async def start(self, follower: StreamFollower) -> None:
        if follower.closed:
            return
        follower.since = self.live.presence.clock()
        self._pending[follower] = None
        # The board changes at once (this process) and the runner sends everyone the new view;
        # a view that did not change (another tab of someone present) goes to the newcomer only.
        await self.live.announce(self._here(follower))
        self._changed.set()
        if self._runner is None:
            self._runner = asyncio.ensure_future(self._run())
        if self._beat is None:
            self._beat = asyncio.ensure_future(self._heartbeat())

    async def _run(self) -> None:
        board = self.live.presence
        while True:
            await self._changed.wait()
            self._changed.clear()
            current = board.viewers(self.case_id)
            pending = list(self._pending)
            self._pending.clear()
            if current != self._last:
                self._last = current
                targets = [*self._served, *pending]
            else:
                targets = pending
            self._served.update(dict.fromkeys(follower for follower in pending if not follower.closed))
            if targets:
                await self.streams.serve(self.render(current), ((follower, follower.actor) for follower in targets))

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            for follower in [*self._served, *self._pending]:
                if not follower.closed:
                    await self.live.announce(self._here(follower))

    def latest(self, follower: StreamFollower) -> object | None:
        return self.render(self._last) if self._last is not None else None

    def left(self, follower: StreamFollower) -> None:
        started = follower in self._served or follower in self._pending
        self._served.pop(follower, None)
        self._pending.pop(follower, None)
        if started:
            _in_background(self.live.announce({"op": "gone", "case": self.case_id, "conn": follower.key}))

    def stop(self) -> None:
        self.live.presence.unlisten(self.case_id, self._changed)
        for task in (self._runner, self._beat):
            if task is not None:
                task.cancel()
        self._runner = self._beat = None


class CounterAudience:
    """The hub's view of a group's counter subscribers with one token actor."""

    __slots__ = ("actor", "sink", "followers")

    def __init__(self, actor: Actor, stream: CounterStream) -> None:
        self.actor = actor
        self.sink = stream
        self.followers: dict[StreamFollower, None] = {}

    def matches(self, actor: Actor, event: EventRecord, case: CaseRecord) -> bool:
        return self.sink.flt.matches(actor, event, case)


class CounterStream(SharedStream):
    """A group's open cases per status, for every subscriber of its counters here."""

    def __init__(self, streams: Streams, key: Hashable, spec: CountersSpec) -> None:
        super().__init__(streams, key)
        self.hub: EventHub = spec.hub
        self.group_id = spec.group_id
        self.flt = queue_filter(QueueScope.MY_GROUPS, spec.group_id)
        self.recounts = shared_recounts(spec.hub)
        self._audiences: dict[Actor, CounterAudience] = {}
        self._woken: dict[StreamFollower, tuple[Actor, int]] = {}
        self._latest: dict[StreamFollower, object] = {}
        self._flusher: asyncio.Task[None] | None = None

    def join(self, follower: StreamFollower) -> None:
        # In the hub's audience before the first count: no event committed after it slips past.
        super().join(follower)
        actor = follower.token_actor
        audience = self._audiences.get(actor)
        if audience is None:
            audience = self._audiences[actor] = CounterAudience(actor, self)
            self.hub.follow(audience)
        audience.followers[follower] = None

    async def start(self, follower: StreamFollower) -> None:
        if follower.closed:
            return
        counts, head = await count_by_status(actor=follower.actor, group_id=self.group_id)
        root = self._render(follower, counts, head)
        await self.streams.serve_alone(follower, root)
        follower.head = head

    def _render(self, follower: StreamFollower, counts: dict[CaseStatus, int], head: int) -> object:
        spec = follower.spec
        assert isinstance(spec, CountersSpec)
        root = spec.render(counts, head)
        self._latest[follower] = root
        return root

    async def deliver(self, event: EventRecord, case: CaseRecord, reached: Sequence[tuple[Any, Actor]]) -> None:
        for audience, actor in reached:
            assert isinstance(audience, CounterAudience)
            for follower in audience.followers:
                woken = self._woken.get(follower)
                if woken is None or woken[1] < event.sequence:
                    self._woken[follower] = (actor, event.sequence)
        if self._woken and self._flusher is None:
            self._flusher = asyncio.ensure_future(self._flush())

    def hub_stopped(self) -> None:
        self._audiences.clear()
        for follower in list(self.followers):
            follower.end()

    async def _flush(self) -> None:
        try:
            while self._woken:
                await asyncio.sleep(COUNTER_MIN_INTERVAL)  # let a burst settle into one recount
                woken, self._woken = self._woken, {}
                try:
                    await self._recount(woken)
                    RECOUNT_OUTAGE.succeeded()
                except Exception as error:  # the log keeps everything: count again
                    if not is_outage(error):
                        # Not something a retry mends: end them (``complete``); a client resubscribes.
                        log.exception("recounting queue counters failed")
                        for follower in woken:
                            follower.end()
                        continue
                    RECOUNT_OUTAGE.failed(error)
                    for follower, entry in woken.items():
                        self._woken.setdefault(follower, entry)
                    await asyncio.sleep(RETRY_DELAY)
        finally:
            self._flusher = None

    async def _recount(self, woken: dict[StreamFollower, tuple[Actor, int]]) -> None:
        ready: dict[StreamFollower, Actor] = {}
        at_least = 0
        for follower, (actor, sequence) in woken.items():
            if follower.closed:
                continue
            if follower.head is None:  # still counting its first value: look again next time
                self._woken[follower] = (actor, sequence)
            elif sequence > follower.head:
                ready[follower] = actor
                at_least = max(at_least, sequence)
        if not ready:
            return
        counts = await self.recounts.group_counts(self.group_id, at_least)
        values: dict[Hashable, tuple[object, list[tuple[StreamFollower, Actor]]]] = {}
        for follower, actor in ready.items():
            if actor.is_staff and self.group_id in actor.group_ids:
                # Every submitted case of the group and their own drafts (services.visibility).
                mine = counts.drafts.get(actor.user_id, 0)
                own = {**counts.submitted, CaseStatus.DRAFT: mine} if mine else dict(counts.submitted)
                head = counts.head
            else:
                self.recounts.alone += 1
                own, head = await count_by_status(actor=actor, group_id=self.group_id)
            if follower.closed:
                continue
            follower.head = head
            spec = follower.spec
            assert isinstance(spec, CountersSpec)
            key = (spec.group_code, head, tuple(sorted((status.value, n) for status, n in own.items())))
            value = values.get(key)
            if value is None:
                value = values[key] = (spec.render(own, head), [])
            self._latest[follower] = value[0]
            value[1].append((follower, actor))
        for root, members in values.values():
            await self.streams.serve(root, members)

    def latest(self, follower: StreamFollower) -> object | None:
        return self._latest.get(follower)

    def left(self, follower: StreamFollower) -> None:
        self._woken.pop(follower, None)
        self._latest.pop(follower, None)
        audience = self._audiences.get(follower.token_actor)
        if audience is not None:
            audience.followers.pop(follower, None)
            if not audience.followers:
                del self._audiences[follower.token_actor]
                self.hub.unfollow(audience)

    def stop(self) -> None:
        for audience in self._audiences.values():
            self.hub.unfollow(audience)
        self._audiences.clear()
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None


def _json_string(text: str) -> str:
    return orjson.dumps(text).decode()
