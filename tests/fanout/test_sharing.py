"""Shared execution (``casegraph.fanout``) against Strawberry's own, subscriber by subscriber.

The same subscriptions are served both ways from one hub: through Strawberry's subscription
pipeline (a feed and an execution per subscriber: the reference) and through the fan-out
dispatcher (one execution per plan and visibility class). Every subscriber must receive exactly
the reference's payloads — no case it may not see, no field it may not see, nothing another
viewer would see differently — and the dispatcher must have executed once per class.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse
from strawberry.schema import Schema

from casegraph.domain.commands import UpdateCase
from casegraph.domain.enums import CaseAction
from casegraph.events.feed import every_visible_case
from casegraph.events.hub import head_sequence
from casegraph.events.live import LiveEvents
from casegraph.fanout.connection_context import ConnectionContext
from casegraph.fanout.dispatcher import FanoutDispatcher
from casegraph.fanout.outlet import Outlet
from casegraph.fanout.viewer_reads import staff_view
from casegraph.services.case_actions import ActionRequest, perform
from schema.context import Context
from tests.helpers import World, insert_case

TIMEOUT = 10.0

# One selection per visibility class, and one that mixes them with a variable inside.
PURE = "subscription { caseEvents { sequence action toStatus case { number title status } } }"
STAFF = "subscription { caseEvents { sequence requestId case { number inspectionFindings workNotes { body } } } }"
ACTOR = "subscription { caseEvents { sequence case { number availableActions requester { id email } } } }"
MIXED = (
    "subscription Watch($n: Int) { caseEvents { sequence actor { id name email } case { number "
    "assignedTo { name email } assignmentGroup { code members { isManager user { id } } } "
    "history(first: $n) { totalCount edges { node { action } } } } } }"
)

# Who watches: every role, an agent with two connections, and people who must not see a case.
WATCHERS = [
    "requester",
    "other_constituent",
    "agent",
    "agent",
    "other_agent",
    "outsider_agent",
    "manager",
    "admin",
    "field_agent",
]


@dataclass
class Capture:
    """The socket side of one followed subscription: the frames it was sent."""

    frames: list[str] = field(default_factory=list)
    ended_ids: list[str] = field(default_factory=list)

    def send_now(self, frame: str) -> bool:
        self.frames.append(frame)
        return True

    async def send(self, frame: str) -> None:
        self.frames.append(frame)

    def ended(self, operation_id: str) -> None:
        self.ended_ids.append(operation_id)

    def payloads(self) -> list[Any]:
        messages = [json.loads(frame) for frame in self.frames]
        assert all(message["type"] == "next" for message in messages), messages
        return [message["payload"] for message in messages]


def context_of(world: World, who: str, live: LiveEvents) -> Context:
    return ConnectionContext(actor=world.actor(who), live=live, clock=world.clock, over_websocket=True)


async def follow(
    dispatcher: FanoutDispatcher,
    live: LiveEvents,
    world: World,
    who: str,
    query: str,
    variables: dict[str, Any] | None,
    operation_id: str,
) -> Capture:
    operation = parse(query).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    plan = dispatcher.plan_for(query=query, operation_name=None, variables=variables, operation=operation, fragments={})
    capture = Capture()
    follower = dispatcher.follow(
        hub=live.hub,
        actor=world.actor(who),
        flt=every_visible_case(),
        plan=plan,
        outlet=Outlet(capture.send, capture.send_now),
        context=context_of(world, who, live),
        owner=capture,
        operation_id=operation_id,
    )
    await follower.start(None)
    return capture


class Reference:
    """Strawberry's own subscription for one watcher: a feed and an execution per event."""

    def __init__(self, stream: Any, first: asyncio.Future[Any]) -> None:
        self.stream = stream
        self.pending = first
        self.payloads: list[Any] = []

    @classmethod
    async def start(
        cls, schema: Schema, live: LiveEvents, world: World, who: str, query: str, variables: dict[str, Any] | None
    ) -> Reference:
        stream = await schema.subscribe(query, variable_values=variables, context_value=context_of(world, who, live))
        first = asyncio.ensure_future(anext(stream))
        before = live.hub.subscriber_count
        async with asyncio.timeout(TIMEOUT):
            while live.hub.subscriber_count == before and not first.done():
                await asyncio.sleep(0.01)
        return cls(stream, first)

    async def take_delivered(self) -> None:
        """Every result its feed has been handed so far (it executes each as it takes it)."""
        while True:
            try:
                result = await asyncio.wait_for(asyncio.shield(self.pending), 0.3)
            except TimeoutError:
                return
            payload: dict[str, Any] = {"data": result.data}
            if result.errors:
                payload["errors"] = [error.formatted for error in result.errors]
            self.payloads.append(json.loads(json.dumps(payload)))
            self.pending = asyncio.ensure_future(anext(self.stream))

    async def close(self) -> None:
        self.pending.cancel()
        await asyncio.gather(self.pending, return_exceptions=True)
        await self.stream.aclose()


async def make_events(world: World, live: LiveEvents, references: list[Reference]) -> None:
    """Changes to a ROADS case of the requester and to a BENEFITS case of someone else.

    One at a time: both ways execute each event before the next is made, so both read the same
    database (``history`` counts events).
    """

    async def dispatched() -> None:
        head = await head_sequence()
        async with asyncio.timeout(TIMEOUT):
            while live.hub.last_sequence < head:
                await asyncio.sleep(0.01)
        await asyncio.gather(*(reference.take_delivered() for reference in references))

    roads = await insert_case(world)
    await dispatched()
    benefits = await insert_case(
        world, case_type="PAYMENT", requester="other_constituent", assigned_to="outsider_agent"
    )
    await dispatched()
    for who, case_id, update in (
        ("agent", roads.id, UpdateCase(comment="On our list.")),
        ("agent", roads.id, UpdateCase(work_note="Needs the big truck.")),
        ("outsider_agent", benefits.id, UpdateCase(comment="Checking the payment.")),
        ("requester", roads.id, UpdateCase(comment="Thank you!")),
    ):
        await perform(
            actor=world.actor(who),
            request=ActionRequest(CaseAction.UPDATE, case_id, command=update),
            now=world.clock(),
            publisher=live,
        )
        await dispatched()


@pytest.mark.parametrize(
    ("query", "variables"),
    [(PURE, None), (STAFF, None), (ACTOR, None), (MIXED, {"n": 1})],
    ids=["pure", "staff", "actor", "mixed"],
)
async def test_every_subscriber_gets_exactly_what_its_own_execution_would_give(
    world: World, live: LiveEvents, schema: Schema, query: str, variables: dict[str, Any] | None
) -> None:
    # given: everyone watching every case they may see, both ways
    dispatcher = FanoutDispatcher(schema)
    shared = [await follow(dispatcher, live, world, who, query, variables, str(i)) for i, who in enumerate(WATCHERS)]
    own = [await Reference.start(schema, live, world, who, query, variables) for who in WATCHERS]
    # when
    await make_events(world, live, own)
    for reference in own:
        await reference.close()
    expected = [reference.payloads for reference in own]
    # then: payload for payload, in order
    for who, capture, payloads in zip(WATCHERS, shared, expected, strict=True):
        assert capture.payloads() == payloads, who
    by_who = dict(zip(WATCHERS, expected, strict=False))
    assert len(by_who["requester"]) == 4  # the creation and three changes of her case
    assert len(by_who["other_constituent"]) == 2  # only his own case: never hers
    assert len(by_who["outsider_agent"]) == 2  # only the BENEFITS case
    assert len(by_who["field_agent"]) == 0  # no task, no inspection: nothing at all


@pytest.mark.parametrize("query", [PURE, STAFF, ACTOR], ids=["pure", "staff", "actor"])
async def test_the_selection_executes_once_per_visibility_class_and_event(
    world: World, live: LiveEvents, schema: Schema, query: str
) -> None:
    # given: three connections each for every watcher
    dispatcher = FanoutDispatcher(schema)
    captures = {}
    for copy in range(3):
        for who in dict.fromkeys(WATCHERS):
            captures[(who, copy)] = await follow(dispatcher, live, world, who, query, None, f"{who}-{copy}")
    # when
    await make_events(world, live, [])
    # then: one execution per event for everyone alike; per staff side; per distinct viewer
    receivers: dict[int, set[str]] = {}
    for (who, _), capture in captures.items():
        for payload in capture.payloads():
            receivers.setdefault(payload["data"]["caseEvents"]["sequence"], set()).add(who)
    if query == PURE:
        expected = len(receivers)
    elif query == STAFF:
        expected = sum(len({staff_view(world.actor(who)) for who in people}) for people in receivers.values())
    else:
        expected = sum(len(people) for people in receivers.values())
    assert dispatcher.executions == expected
    assert dispatcher.catch_up_executions == 0
    assert len({len(capture.frames) for (who, _), capture in captures.items() if who == "agent"}) == 1


async def test_subscribers_sharing_a_payload_differ_only_by_their_operation_id(
    world: World, live: LiveEvents, schema: Schema
) -> None:
    # given
    dispatcher = FanoutDispatcher(schema)
    first = await follow(dispatcher, live, world, "agent", PURE, None, "a")
    second = await follow(dispatcher, live, world, "manager", PURE, None, "b")
    # when
    await make_events(world, live, [])
    # then
    assert first.frames and len(first.frames) == len(second.frames)
    for mine, theirs in zip(first.frames, second.frames, strict=True):
        assert mine.replace('"id":"a"', '"id":"b"', 1) == theirs


async def test_legacy_and_modern_subscribers_of_a_class_share_one_execution(
    world: World, live: LiveEvents, schema: Schema
) -> None:
    # given: the same subscription from three of an agent's sockets, one graphql-transport-ws and
    # two legacy graphql-ws (their messages say "data" where the modern protocol says "next")
    dispatcher = FanoutDispatcher(schema)
    operation = parse(PURE).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    plan = dispatcher.plan_for(query=PURE, operation_name=None, variables=None, operation=operation, fragments={})
    captures = []
    for number, frame_type in enumerate(("next", "data", "data")):
        who = "agent"
        capture = Capture()
        follower = dispatcher.follow(
            hub=live.hub,
            actor=world.actor(who),
            flt=every_visible_case(),
            plan=plan,
            outlet=Outlet(capture.send, capture.send_now),
            context=context_of(world, who, live),
            owner=capture,
            operation_id=str(number),
            frame_type=frame_type,
        )
        await follower.start(None)
        captures.append(capture)
    # when
    await make_events(world, live, [])
    # then: one execution per event for all three, each frame typed for its protocol
    frames = [[json.loads(frame) for frame in capture.frames] for capture in captures]
    assert len(frames[0]) == 4 and all(len(theirs) == 4 for theirs in frames)  # the ROADS case's events
    assert dispatcher.executions == 4
    assert [{message["type"] for message in messages} for messages in frames] == [{"next"}, {"data"}, {"data"}]
    assert all(
        [message["payload"] for message in messages] == [message["payload"] for message in frames[0]]
        for messages in frames
    )
