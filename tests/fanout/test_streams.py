"""``casePresence`` and ``queueCounters`` followed over sockets: one execution per change and class.

Served by Strawberry, each subscriber of these states ran its own execution per change (its
viewers' user look-ups; for the counters a GraphQL execution and a membership read each). Here
every subscriber of one state in the process follows one stream, and a change costs one
execution per plan, value and visibility class. The guards count executions, recounts and
statements, not time; each subscriber must still get exactly its own view.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from graphql import OperationDefinitionNode, parse
from strawberry.schema import Schema

from casegraph.domain.enums import CaseStage, CaseStatus
from casegraph.events.hub import head_sequence
from casegraph.events.live import LiveEvents
from casegraph.fanout.connection_context import ConnectionContext
from casegraph.fanout.dispatcher import FanoutDispatcher
from casegraph.fanout.outlet import Outlet
from casegraph.fanout.registration import StreamSpec
from casegraph.fanout.streams import StreamFollower
from casegraph.services.queue_counts import count_by_status, shared_recounts
from resolvers.presence import presence_spec
from resolvers.subscriptions import counters_spec
from tests.helpers import World, counted_statements, insert_case

TIMEOUT = 10.0
PRESENCE = "subscription Presence($caseId: ID!) { casePresence(caseId: $caseId) { editing user { id name } } }"
COUNTERS = 'subscription { queueCounters(groupCode: "ROADS") { total asOfSequence byStatus { status count } } }'


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

    async def wait_for(self, count: int) -> Any:
        """The ``count``-th payload, once it has arrived."""
        async with asyncio.timeout(TIMEOUT):
            while len(self.frames) < count:
                await asyncio.sleep(0.01)
        return self.payloads()[count - 1]


async def follow(
    dispatcher: FanoutDispatcher,
    live: LiveEvents,
    world: World,
    who: str,
    query: str,
    variables: dict[str, Any] | None,
    spec: StreamSpec,
    operation_id: str,
) -> tuple[Capture, StreamFollower]:
    """What the WebSocket handlers do once the resolver has authorized the subscriber and shared it."""
    operation = parse(query).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    plan = dispatcher.plan_for(query=query, operation_name=None, variables=variables, operation=operation, fragments={})
    capture = Capture()
    context = ConnectionContext(actor=world.actor(who), live=live, clock=world.clock, over_websocket=True)
    follower = dispatcher.follow_stream(
        spec=spec,
        plan=plan,
        outlet=Outlet(capture.send, capture.send_now),
        context=context,
        owner=capture,
        operation_id=operation_id,
    )
    await follower.start(None)
    return capture, follower


def viewers(payload: Any) -> list[tuple[str, str | None, bool]]:
    return [(v["user"]["id"], v["user"]["name"], v["editing"]) for v in payload["data"]["casePresence"]]


async def test_a_change_of_presence_is_executed_once_for_every_viewer_of_the_case(
    world: World, live: LiveEvents, schema: Schema
) -> None:
    # given: staff and the requester on one case, the agent in two tabs, all seeing each other
    case = await insert_case(world)
    dispatcher = FanoutDispatcher(schema)
    watchers = ["requester", "agent", "agent", "other_agent", "manager"]
    captures = []
    for number, who in enumerate(watchers):
        spec = presence_spec(live, case.id, world.actor(who), editing=False)
        capture, _ = await follow(dispatcher, live, world, who, PRESENCE, {"caseId": case.id}, spec, str(number))
        captures.append(capture)
    for capture in captures:
        await everyone_seen(capture, 4)
    sent = [len(capture.frames) for capture in captures]
    executions, alone = dispatcher.streams.executions, dispatcher.streams.alone
    # when: the admin opens the case too
    admin_spec = presence_spec(live, case.id, world.actor("admin"), editing=True)
    admin, admin_follower = await follow(
        dispatcher, live, world, "admin", PRESENCE, {"caseId": case.id}, admin_spec, "admin"
    )
    views = [await capture.wait_for(count + 1) for capture, count in zip(captures, sent, strict=True)]
    views.append(await admin.wait_for(1))
    # then: one execution served all six, and each got the same, exact view
    assert dispatcher.streams.executions == executions + 1
    assert dispatcher.streams.alone == alone
    expected = sorted(
        (world.sub(who), world.people[who].name, who == "admin")
        for who in ("requester", "agent", "other_agent", "manager", "admin")
    )
    for view in views:
        assert sorted(viewers(view)) == expected
    assert len(dispatcher.streams) == 1  # one stream for the case
    # and when the admin leaves, the others see it at once: one execution again
    admin_follower.close()
    gone = [await capture.wait_for(count + 2) for capture, count in zip(captures, sent, strict=True)]
    assert dispatcher.streams.executions == executions + 2
    for view in gone:
        assert sorted(viewers(view)) == [entry for entry in expected if entry[0] != world.sub("admin")]
    assert all(len(capture.frames) == count + 2 for capture, count in zip(captures, sent, strict=True))


async def everyone_seen(capture: Capture, people: int) -> None:
    async with asyncio.timeout(TIMEOUT):
        while not capture.frames or len(viewers(capture.payloads()[-1])) < people:
            await asyncio.sleep(0.01)


async def test_one_recount_and_one_execution_per_value_serve_every_counter_subscriber(
    world: World, live: LiveEvents, schema: Schema
) -> None:
    # given: ROADS cases (one the agent's own draft) and its staff watching the counters, the
    # agent on two connections; a requester's case elsewhere
    await insert_case(world)
    await insert_case(world, state=(CaseStage.DRAFT, CaseStatus.DRAFT), requester="agent", assigned_to=None)
    await insert_case(world, case_type="PAYMENT", assigned_to="outsider_agent")
    dispatcher = FanoutDispatcher(schema)
    recounts = shared_recounts(live.hub)
    watchers = ["agent", "agent", "other_agent", "manager"]
    captures = []
    for number, who in enumerate(watchers):
        spec = counters_spec(live.hub, world.group_ids["ROADS"], "ROADS")
        capture, _ = await follow(dispatcher, live, world, who, COUNTERS, None, spec, str(number))
        captures.append(capture)
    first = [await capture.wait_for(1) for capture in captures]
    executions, recounted = dispatcher.streams.executions, recounts.recounts
    # when: one more case of the group
    with counted_statements() as statements:
        await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.OPEN))
        head = await head_sequence()
        after = [await capture.wait_for(2) for capture in captures]
    # then: one recount, one execution per distinct value (the agent's own draft makes two),
    # and no read per subscriber (memberships come with the hub's one read per batch)
    assert recounts.recounts == recounted + 1 and recounts.alone == 0
    assert dispatcher.streams.executions == executions + 2
    memberships = [sql for sql in statements if "groupmembership" in sql.lower()]
    assert len(memberships) <= 2, memberships  # the hub's batch (and its poll), never one per subscriber
    for who, payload in zip(watchers, after, strict=True):
        counters = payload["data"]["queueCounters"]
        expected, _ = await count_by_status(actor=world.actor(who), group_id=world.group_ids["ROADS"])
        assert {entry["status"]: entry["count"] for entry in counters["byStatus"]} == {
            status.value: count for status, count in expected.items()
        }, who
        assert counters["asOfSequence"] == head
    assert [payload["data"]["queueCounters"]["total"] for payload in first] == [2, 2, 1, 1]
    assert [payload["data"]["queueCounters"]["total"] for payload in after] == [3, 3, 2, 2]


async def test_a_closed_follower_leaves_the_stream_and_the_hub(world: World, live: LiveEvents, schema: Schema) -> None:
    # given: two counter subscribers of the group
    dispatcher = FanoutDispatcher(schema)
    followers: list[StreamFollower] = []
    for number, who in enumerate(["agent", "manager"]):
        spec = counters_spec(live.hub, world.group_ids["ROADS"], "ROADS")
        capture, follower = await follow(dispatcher, live, world, who, COUNTERS, None, spec, str(number))
        await capture.wait_for(1)
        followers.append(follower)
    assert live.hub.audience_count == 2 and dispatcher.followers == 2
    # when
    for follower in followers:
        follower.close()
    # then: nothing of them is left
    assert live.hub.audience_count == 0 and dispatcher.followers == 0
    assert len(dispatcher.streams) == 0 and dispatcher.plan_count == 0
