"""``queueCounters``: one recount of a group's queue serves every subscriber woken by an event.

Each subscriber still gets exactly what counting alone would give it (``count_by_status``, the
reference): every submitted case of the group, its own drafts and nobody else's. The guard
counts recounts, not time: one per burst for all staff subscribers of the group.
"""

from __future__ import annotations

import asyncio
from typing import Any

from strawberry.schema import Schema
from strawberry.types import ExecutionResult

from casegraph.domain.enums import CaseStage, CaseStatus
from casegraph.events.hub import head_sequence
from casegraph.events.live import LiveEvents
from casegraph.fanout.connection_context import ConnectionContext
from casegraph.services.queue_counts import count_by_status, shared_recounts
from tests.helpers import World, insert_case

TIMEOUT = 10.0
COUNTERS = 'subscription { queueCounters(groupCode: "ROADS") { total asOfSequence byStatus { status count } } }'
# Staff of ROADS, one of them on two connections.
WATCHERS = ["agent", "agent", "other_agent", "manager"]


def counters_of(result: ExecutionResult) -> dict[str, Any]:
    assert result.data is not None, result.errors
    counters: dict[str, Any] = result.data["queueCounters"]
    return counters


def as_counts(counters: dict[str, Any]) -> dict[str, int]:
    return {entry["status"]: entry["count"] for entry in counters["byStatus"]}


async def test_one_recount_serves_every_subscriber_of_the_group_each_with_its_own_view(
    world: World, live: LiveEvents, schema: Schema
) -> None:
    # given: ROADS cases (one the agent's own draft, one deleted, one closed) and a BENEFITS case
    await insert_case(world)
    await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.OPEN))
    await insert_case(world, state=(CaseStage.DRAFT, CaseStatus.DRAFT), requester="agent", assigned_to=None)
    await insert_case(world, deleted=True)
    await insert_case(world, state=(CaseStage.DECISION, CaseStatus.CLOSED))
    await insert_case(world, case_type="PAYMENT", assigned_to="outsider_agent")
    recounts = shared_recounts(live.hub)
    streams = [
        await schema.subscribe(
            COUNTERS,
            context_value=ConnectionContext(actor=world.actor(who), live=live, clock=world.clock, over_websocket=True),
        )
        for who in WATCHERS
    ]
    async with asyncio.timeout(TIMEOUT):
        first = [await anext(stream) for stream in streams]
    # when: one more case of the group
    recounted = recounts.recounts
    await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.OPEN))
    head = await head_sequence()
    async with asyncio.timeout(TIMEOUT):
        after = [await anext(stream) for stream in streams]
    for stream in streams:
        await stream.aclose()
    # then: one recount for all four, and each got what counting alone gives it
    assert recounts.recounts == recounted + 1 and recounts.alone == 0
    for who, result in zip(WATCHERS, after, strict=True):
        assert not result.errors, result.errors
        counters = counters_of(result)
        expected, _ = await count_by_status(actor=world.actor(who), group_id=world.group_ids["ROADS"])
        assert as_counts(counters) == {status.value: count for status, count in expected.items()}, who
        assert counters["asOfSequence"] == head
    assert as_counts(counters_of(after[0])) == {"NEW": 1, "OPEN": 2, "DRAFT": 1}
    assert as_counts(counters_of(after[2])) == {"NEW": 1, "OPEN": 2}  # not the agent's draft
    assert [counters_of(result)["total"] for result in first] == [3, 3, 2, 2]
