"""Followed subscriptions: what each one holds while idle, and how it gets (back) in step.

A ``Follower`` is one subscription of one connection: a few slots, no task, no queue. It is
registered with the hub (through its ``Audience``) *before* it reads the event log, so nothing
committed afterwards can slip past, and it stays ``REPLAYING`` — events dispatched meanwhile
are held, a bounded list — until it has written what the log had after ``after`` and what was
held, skipping anything at or below the last sequence written. Then it is ``LIVE``: the
dispatcher writes shared payloads to it directly.

When its socket stops reading and its outlet drops frames, it goes back to ``REPLAYING`` from
the last event the client was actually sent, waits for the socket to drain, and catches up from
the log the same way: no gap, no duplicate, in sequence order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from enum import Enum
from typing import Final, Protocol

import orjson

from casegraph.domain.relations import Actor
from casegraph.events.feed import FeedFilter, replay
from casegraph.events.hub import EventHub, FanoutSink, head_sequence, refresh_actors
from casegraph.fanout.outlet import Outlet
from casegraph.fanout.plans import Plan
from casegraph.outages import OutageLog, is_outage
from casegraph.services.records import CaseRecord, EventRecord
from schema.context import Context


class Dispatcher(Protocol):
    """What a follower asks of its dispatcher (``dispatcher.FanoutDispatcher``), named here so that
    this module, which the dispatcher builds on, does not import it back."""

    def unfollow(self, follower: Follower) -> None: ...

    async def execute_alone(
        self, follower: Follower, event: EventRecord, case: CaseRecord, actor: Actor
    ) -> str | None: ...


log = logging.getLogger(__name__)

HOLD_LIMIT: Final = 256
RETRY_DELAY: Final = 1.0
# Subscribers catching up after a drop retry every RETRY_DELAY while the database is away.
CATCH_UP_OUTAGE: Final = OutageLog(log, "event log (live subscribers catching up)")

Held = tuple[EventRecord, CaseRecord, Actor]


class State(Enum):
    REPLAYING = "replaying"
    LIVE = "live"
    CLOSED = "closed"


class Audience:
    """Followers with one token actor and one filter: the hub judges an event once for all."""

    __slots__ = ("actor", "flt", "hub", "sink", "by_plan")

    def __init__(self, *, actor: Actor, flt: FeedFilter, hub: EventHub, sink: FanoutSink) -> None:
        self.actor = actor
        self.flt = flt
        self.hub = hub
        self.sink = sink
        self.by_plan: dict[Plan, set[Follower]] = {}

    def matches(self, actor: Actor, event: EventRecord, case: CaseRecord) -> bool:
        return self.flt.matches(actor, event, case)


class Owner(Protocol):
    """The connection's handler, told when the server ends one of its subscriptions."""

    def ended(self, operation_id: str) -> None: ...


class Follower:
    __slots__ = (
        "dispatcher",
        "plan",
        "audience",
        "outlet",
        "context",
        "owner",
        "operation_id",
        "frame_head",
        "state",
        "last",
        "held",
        "overflowed",
        "recovery",
    )

    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        plan: Plan,
        audience: Audience,
        outlet: Outlet,
        context: Context,
        owner: Owner,
        operation_id: str,
        frame_type: str = "next",
    ) -> None:
        self.dispatcher = dispatcher
        self.plan = plan
        self.audience = audience
        self.outlet = outlet
        self.context = context
        self.owner = owner
        self.operation_id = operation_id
        # graphql-transport-ws says "next", the legacy graphql-ws "data"; the payload is the same.
        self.frame_head = '{"id":' + _json_string(operation_id) + ',"type":' + _json_string(frame_type) + ',"payload":'
        self.state = State.REPLAYING
        self.last = 0
        self.held: list[Held] | None = None
        self.overflowed = False
        self.recovery: asyncio.Task[None] | None = None

    # ---- called by the dispatcher, synchronously, in event order

    def push(self, payload: str, sequence: int) -> None:
        """A live event's shared payload."""
        if self.state is State.LIVE and sequence > self.last:
            self._write(payload, sequence)

    def hold(self, event: EventRecord, case: CaseRecord, actor: Actor) -> None:
        """An event dispatched while this follower replays: written once it is in step."""
        if self.overflowed:
            return
        if self.held is None:
            self.held = []
        self.held.append((event, case, actor))
        if len(self.held) > HOLD_LIMIT:
            # Too far behind: drop what is held and re-read it from the log instead.
            self.held = None
            self.overflowed = True

    def fell_behind(self, after: int) -> None:
        """The outlet dropped frames of events after ``after``: replay them from the log."""
        if self.state is State.CLOSED:
            return
        self.last = min(self.last, after)
        self.overflowed = True
        if self.state is State.LIVE:
            self.state = State.REPLAYING
            self.recovery = asyncio.ensure_future(self._recover())

    # ---- life cycle

    async def start(self, after: int | None) -> None:
        """Write what the log has after ``after`` (nothing, without ``after``), then go live."""
        if after is None:
            # From the present: anything committed before this read was dispatched before the
            # follower registered or is held and skipped; anything later is held or live.
            self.last = await head_sequence()
            await self._catch_up(from_log=False)
        else:
            self.last = after
            await self._catch_up(from_log=True)

    def close(self) -> None:
        if self.state is State.CLOSED:
            return
        self.state = State.CLOSED
        self.held = None
        self.dispatcher.unfollow(self)
        if self.recovery is not None and self.recovery is not _current_task():
            self.recovery.cancel()
        self.recovery = None

    def end(self, payload: str | None = None) -> None:
        """The server ends the subscription: a last payload (an error), ``complete``, closed."""
        if self.state is State.CLOSED:
            return
        if payload is not None:
            self.outlet.write(self.frame_head + payload + "}")
        self.outlet.write('{"id":' + _json_string(self.operation_id) + ',"type":"complete"}')
        self.close()
        self.owner.ended(self.operation_id)

    # ---- catching up

    async def _recover(self) -> None:
        while self.state is State.REPLAYING:
            try:
                await self._catch_up(from_log=True)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a database hiccup: try again, the log keeps everything
                if is_outage(error):
                    CATCH_UP_OUTAGE.failed(error)  # one warning per outage for all subscribers
                else:
                    log.warning("live subscriber could not catch up; retrying", exc_info=True)
                self.overflowed = True
                await asyncio.sleep(RETRY_DELAY)
            else:
                CATCH_UP_OUTAGE.succeeded()
        self.recovery = None

    async def _catch_up(self, *, from_log: bool) -> None:
        while self.state is State.REPLAYING:
            self.overflowed = False
            if from_log:
                await self.outlet.drained()
                token_actor = self.audience.actor
                actor = (await refresh_actors([token_actor]))[token_actor]
                events = replay(actor=actor, flt=self.audience.flt, after=self.last, refreshed=True)
                async with contextlib.aclosing(events):
                    async for event, case in events:
                        if self.overflowed or self.state is not State.REPLAYING:
                            break
                        await self._write_alone(event, case, actor)
                if self.overflowed:
                    continue
            from_log = True
            while self.held and not self.overflowed and self.state is State.REPLAYING:
                held, self.held = self.held, None
                for event, case, actor in held:
                    if self.overflowed or self.state is not State.REPLAYING:
                        break
                    if event.sequence > self.last:
                        await self._write_alone(event, case, actor)
            if self.overflowed:
                continue
            if self.state is State.REPLAYING:
                self.state = State.LIVE  # nothing held: from here on the dispatcher writes

    async def _write_alone(self, event: EventRecord, case: CaseRecord, actor: Actor) -> None:
        payload = await self.dispatcher.execute_alone(self, event, case, actor)
        # Not after a drop: an earlier event must be re-sent first.
        if payload is not None and self.state is State.REPLAYING and not self.overflowed and event.sequence > self.last:
            self._write(payload, event.sequence)

    def _write(self, payload: str, sequence: int) -> None:
        self.last = sequence
        self.outlet.write(self.frame_head + payload + "}", self, sequence)


def _json_string(text: str) -> str:
    return orjson.dumps(text).decode()


def _current_task() -> asyncio.Task[object] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None
