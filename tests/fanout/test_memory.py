"""What a subscription keeps does not grow with the events it is sent (issue 14, section 7).

Each process's memory grew by about a kilobyte per subscription execution for as long as the
subscription (under the fan-out: its plan) lived, because graphql-core's per-event executors
shared one memo keyed by lists made afresh for every event (``casegraph/_compat/graphql_core_executor.py``).
These guards count allocations, not time or resident memory: ``tracemalloc`` sees what stays
allocated after ``EVENTS`` deliveries, and a leak of even a few bytes per delivery shows.
"""

from __future__ import annotations

import dataclasses
import gc
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Final, cast

import pytest
from graphql import ExecutionResult, OperationDefinitionNode, execute_subscription_event, parse
from strawberry.schema import Schema

from casegraph.events.feed import every_visible_case
from casegraph.events.live import LiveEvents
from casegraph.fanout.connection_context import ConnectionContext
from casegraph.fanout.dispatcher import FanoutDispatcher
from casegraph.fanout.outlet import Outlet
from casegraph.services.records import EVENT_COLUMNS, CaseRecord, EventRecord
from models import CaseEvent
from schema.types.case import CaseEvent as CaseEventType
from tests.helpers import World, insert_case

# Nested selections: the sub-field memo is used below the root field.
QUERY: Final = "subscription { caseEvents { sequence action toStatus case { number title status priority } } }"
WARM_UP: Final = 50
EVENTS: Final = 400
# What may stay allocated after EVENTS deliveries: caches filling up once, not per delivery
# (a kilobyte per delivery, as before the fix, is 400 KiB here).
ALLOWED_GROWTH: Final = 48 * 1024


class Discard:
    """A socket that takes every frame and keeps none (only counts them)."""

    def __init__(self) -> None:
        self.frames = 0
        self.ended_ids: list[str] = []

    def send_now(self, frame: str) -> bool:
        self.frames += 1
        return True

    async def send(self, frame: str) -> None:
        self.frames += 1

    def ended(self, operation_id: str) -> None:
        self.ended_ids.append(operation_id)


@pytest.fixture
def traced() -> Iterator[Callable[[], int]]:
    """Bytes allocated now and still alive (after a full collection), while tracing."""
    tracemalloc.start()

    def allocated() -> int:
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    try:
        yield allocated
    finally:
        tracemalloc.stop()


async def an_event(world: World) -> tuple[EventRecord, CaseRecord]:
    case = await insert_case(world)
    rows = await CaseEvent.filter(case_id=case.id).values(*EVENT_COLUMNS)
    return EventRecord.from_row(rows[0]), case


async def test_a_followed_subscription_holds_no_more_after_many_deliveries(
    world: World, live: LiveEvents, schema: Schema, traced: Callable[[], int]
) -> None:
    # given: an agent following its cases through the fan-out, and an event of one
    dispatcher = FanoutDispatcher(schema)
    operation = parse(QUERY).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    plan = dispatcher.plan_for(query=QUERY, operation_name=None, variables=None, operation=operation, fragments={})
    socket = Discard()
    actor = world.actor("agent")
    follower = dispatcher.follow(
        hub=live.hub,
        actor=actor,
        flt=every_visible_case(),
        plan=plan,
        outlet=Outlet(socket.send, socket.send_now),
        context=ConnectionContext(actor=actor, live=live, clock=world.clock, over_websocket=True),
        owner=socket,
        operation_id="1",
    )
    await follower.start(None)
    event, case = await an_event(world)
    first = follower.last + 1

    async def deliver(count: int, start: int) -> None:
        for sequence in range(start, start + count):
            await dispatcher.deliver(dataclasses.replace(event, sequence=sequence), case, [(follower.audience, actor)])

    await deliver(WARM_UP, first)
    before = traced()

    # when: many more events are delivered to it
    await deliver(EVENTS, first + WARM_UP)

    # then: each was executed and sent, and what stays allocated did not grow with them
    growth = traced() - before
    follower.close()
    assert socket.frames == WARM_UP + EVENTS and not socket.ended_ids
    assert dispatcher.executions == WARM_UP + EVENTS
    assert growth < ALLOWED_GROWTH, f"{growth} bytes kept after {EVENTS} deliveries"


async def test_strawberrys_own_subscription_executor_holds_no_more_after_many_events(
    world: World, live: LiveEvents, schema: Schema, traced: Callable[[], int]
) -> None:
    # given: the executor Strawberry runs every other subscription with, as graphql-core's
    # subscribe builds it once per subscription, and an event
    document = parse(QUERY)
    executor = schema.execution_context_class.build(schema._schema, document)
    assert not isinstance(executor, list), executor
    event, case = await an_event(world)
    actor = world.actor("agent")
    root = CaseEventType.from_record(event, case=case)

    async def execute(count: int) -> None:
        for _ in range(count):
            per_event: Any = executor.build_per_event_executor(root)
            per_event.context_value = ConnectionContext(actor=actor, live=live, clock=world.clock, over_websocket=True)
            result = await cast(Awaitable[ExecutionResult], execute_subscription_event(per_event))
            assert not result.errors, result.errors

    await execute(WARM_UP)
    before = traced()

    # when: it executes many more events
    await execute(EVENTS)

    # then: what stays allocated did not grow with them
    growth = traced() - before
    assert growth < ALLOWED_GROWTH, f"{growth} bytes kept after {EVENTS} events"
