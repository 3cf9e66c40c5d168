"""The hub and its feeds in-process: seam, ordering, bounded queues, poll fallback, visibility."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from tortoise.context import TortoiseContext

from casegraph.domain.commands import UpdateCase
from casegraph.domain.enums import CaseAction, ErrorCode
from casegraph.domain.errors import DomainError
from casegraph.events import hub as hub_module
from casegraph.events.feed import (
    QueueScope,
    case_filter,
    every_visible_case,
    feed,
    group_id_for,
    parse_after,
    queue_filter,
)
from casegraph.events.hub import Delivery, EventHub
from casegraph.events.live import LiveEvents
from casegraph.services import admin
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.publisher import NullPublisher, Publisher
from tests.helpers import FakeClock, World, counted_statements, insert_case

TIMEOUT = 10.0


async def comment(world: World, case_id: str, publisher: Publisher, n: int = 1) -> None:
    for i in range(n):
        await perform(
            actor=world.actor("agent"),
            request=ActionRequest(CaseAction.UPDATE, case_id, command=UpdateCase(comment=f"note {i}")),
            now=world.clock(),
            publisher=publisher,
        )


async def cancel(task: asyncio.Future[Any]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def take(stream: AsyncGenerator[Delivery, None], n: int) -> list[Delivery]:
    async def collect() -> list[Delivery]:
        return [await anext(stream) for _ in range(n)]

    return await asyncio.wait_for(collect(), TIMEOUT)


async def test_feed_replays_stored_events_then_continues_live_without_gap_or_duplicate(
    world: World, live: LiveEvents
) -> None:
    # given: a case with history, a subscriber resuming after its creation event
    case = await insert_case(world)
    await comment(world, case.id, live, n=3)
    stream = feed(hub=live.hub, actor=world.actor("agent"), flt=case_filter(case.id), after=1)
    replayed = await take(stream, 3)
    # when: more changes commit while the subscriber is live
    await comment(world, case.id, live, n=4)
    live_events = await take(stream, 4)
    await stream.aclose()
    # then: every event after `after`, in order, each once
    sequences = [event.sequence for event, _ in replayed + live_events]
    assert sequences == sorted(set(sequences))
    assert len(sequences) == 7
    assert [event.version for event, _ in replayed + live_events] == list(range(2, 9))


async def test_feed_without_after_starts_at_the_present(world: World, live: LiveEvents) -> None:
    # given
    case = await insert_case(world)
    await comment(world, case.id, live, n=2)
    stream = feed(hub=live.hub, actor=world.actor("agent"), flt=case_filter(case.id), after=None)
    first = asyncio.ensure_future(take(stream, 1))
    await asyncio.sleep(0.05)
    # when
    await comment(world, case.id, live)
    # then: only the change made after subscribing
    [(event, _)] = await first
    assert event.version == 4
    await stream.aclose()


async def test_slow_subscriber_queue_stays_bounded_and_catches_up_from_the_log(world: World, live: LiveEvents) -> None:
    # given: a subscriber with a tiny queue that does not read
    case = await insert_case(world)
    stream = feed(hub=live.hub, actor=world.actor("agent"), flt=case_filter(case.id), after=1, queue_limit=5)
    first = asyncio.ensure_future(take(stream, 1))
    await comment(world, case.id, live)
    await first
    # when: many events commit while it is stalled
    peak = 0
    for _ in range(40):
        await comment(world, case.id, live)
        await asyncio.sleep(0)
        peak = max(peak, *(len(s.queue) for s in live.hub._subscriptions))
    rest = await take(stream, 40)
    await stream.aclose()
    # then: memory held per subscriber never exceeded its bound, and nothing was lost
    assert peak <= 5
    assert [event.version for event, _ in rest] == list(range(3, 43))


async def test_an_event_whose_publish_was_lost_still_arrives_through_the_poll(world: World, live: LiveEvents) -> None:
    # given: a live subscriber
    case = await insert_case(world)
    stream = feed(hub=live.hub, actor=world.actor("agent"), flt=every_visible_case(), after=None)
    pending = asyncio.ensure_future(take(stream, 1))
    await asyncio.sleep(0.05)
    # when: a change commits but nobody is told (as after a crash between commit and publish)
    await comment(world, case.id, NullPublisher())
    # then
    [(event, _)] = await pending
    assert event.case_id == case.id and event.action is CaseAction.UPDATE
    await stream.aclose()


async def test_subscribers_receive_only_cases_they_may_see(world: World, live: LiveEvents) -> None:
    # given: two constituents and an outside agent subscribed to everything they may see
    alice_case = await insert_case(world, requester="requester")
    bob_case = await insert_case(world, requester="other_constituent")
    alice = feed(hub=live.hub, actor=world.actor("requester"), flt=every_visible_case(), after=None)
    bob = feed(hub=live.hub, actor=world.actor("other_constituent"), flt=every_visible_case(), after=None)
    outsider = feed(hub=live.hub, actor=world.actor("outsider_agent"), flt=every_visible_case(), after=None)
    alice_next = asyncio.ensure_future(take(alice, 1))
    bob_next = asyncio.ensure_future(take(bob, 1))
    outsider_next = asyncio.ensure_future(take(outsider, 1))
    await asyncio.sleep(0.05)
    # when
    await comment(world, bob_case.id, live)
    await comment(world, alice_case.id, live)
    # then
    assert (await alice_next)[0][0].case_id == alice_case.id
    assert (await bob_next)[0][0].case_id == bob_case.id
    await asyncio.sleep(0.2)
    assert not outsider_next.done()
    await cancel(outsider_next)
    for stream in (alice, bob, outsider):
        await stream.aclose()


async def test_agent_removed_from_group_stops_receiving_its_cases(
    world: World, live: LiveEvents, clock: FakeClock
) -> None:
    # given: another agent of the group following the group queue
    case = await insert_case(world)
    stream = feed(
        hub=live.hub, actor=world.actor("other_agent"), flt=queue_filter(QueueScope.MY_GROUPS, None), after=None
    )
    first = asyncio.ensure_future(take(stream, 1))
    await asyncio.sleep(0.05)
    await comment(world, case.id, live)
    await first
    # when: the administrator removes them from the group, and the case changes again
    await admin.remove_group_member(actor=world.actor("admin"), group_code="ROADS", user_id=world.sub("other_agent"))
    following = asyncio.ensure_future(take(stream, 1))
    await comment(world, case.id, live)
    await asyncio.sleep(0.3)
    # then
    assert not following.done()
    await cancel(following)
    await stream.aclose()


async def test_a_group_code_or_event_id_no_row_can_have_is_refused_before_following(world: World) -> None:
    # given: codes longer than the column or holding NUL (which PostgreSQL text cannot hold), and
    # event ids that are not ASCII numbers (str.isdigit() holds for "²", int() fails) or too large
    codes = ["R" * 65, "ROADS\x00"]
    afters = ["\u00b2", "9" * 20, str(2**63)]
    # when
    refusals: list[ErrorCode] = []
    for code in codes:
        with pytest.raises(DomainError) as refused:
            await group_id_for(code, world.actor("agent"))
        refusals.append(refused.value.code)
    for after in afters:
        with pytest.raises(DomainError) as refused:
            parse_after(after)
        refusals.append(refused.value.code)
    # then: as for a group nothing has, and for an event id that is not one
    assert refusals == [ErrorCode.NOT_FOUND] * 2 + [ErrorCode.VALIDATION_FAILED] * 3
    assert await group_id_for("ROADS", world.actor("agent")) == world.group_ids["ROADS"]
    assert parse_after(str(2**63 - 1)) == 2**63 - 1


async def test_hub_dispatches_each_event_once_in_order_under_concurrent_writers(world: World, live: LiveEvents) -> None:
    # given: several cases written concurrently
    cases = [await insert_case(world) for _ in range(5)]
    stream = feed(hub=live.hub, actor=world.actor("manager"), flt=every_visible_case(), after=None)
    collected = asyncio.ensure_future(take(stream, 25))
    await asyncio.sleep(0.05)
    # when
    await asyncio.gather(*(comment(world, c.id, live, n=5) for c in cases))
    # then
    sequences = [event.sequence for event, _ in await collected]
    assert sequences == sorted(sequences) and len(set(sequences)) == 25
    await stream.aclose()


async def test_an_idle_hub_reads_nothing_when_a_change_commits_and_the_poll_keeps_it_at_the_head(
    db: TortoiseContext, world: World
) -> None:
    # given: nobody listening in this process
    hub = EventHub(poll_interval=3600)
    await hub.start()
    case = await insert_case(world)
    await comment(world, case.id, NullPublisher())
    # when: the commit is announced
    with counted_statements() as statements:
        hub.wake()
        await asyncio.sleep(0.05)
        await hub.drain()
    # then: no read of the log raced the committing request; the poll catches up instead
    assert statements == []
    await hub.poll()
    assert hub.last_sequence == await hub_module.head_sequence()
    await hub.stop()


async def test_a_subscriber_joining_while_the_idle_hub_reads_the_head_misses_no_event(
    db: TortoiseContext, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: an idle hub whose poll we drive
    hub = EventHub(poll_interval=3600)
    await hub.start()
    case = await insert_case(world)
    real_head = hub_module.head_sequence
    joined: list[asyncio.Future[list[Delivery]]] = []
    stream = feed(hub=hub, actor=world.actor("agent"), flt=every_visible_case(), after=None)

    async def head_read_while_a_subscriber_joins_and_a_change_commits() -> int:
        joined.append(asyncio.ensure_future(take(stream, 1)))
        await asyncio.sleep(0.05)  # the feed registered and read the head
        await comment(world, case.id, NullPublisher())  # committed, never announced
        return await real_head()

    monkeypatch.setattr(hub_module, "head_sequence", head_read_while_a_subscriber_joins_and_a_change_commits)
    # when
    await hub.poll()
    # then: the hub did not jump past the event; it dispatches it
    [(event, _)] = await asyncio.wait_for(joined[0], TIMEOUT)
    assert event.case_id == case.id and event.action is CaseAction.UPDATE
    await stream.aclose()
    await hub.stop()


async def test_hub_stop_ends_open_feeds(db: TortoiseContext, world: World) -> None:
    # given
    hub = EventHub(poll_interval=0.05)
    await hub.start()
    stream = feed(hub=hub, actor=world.actor("agent"), flt=every_visible_case(), after=None)
    pending = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.05)
    # when
    await hub.stop()
    # then
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(pending, TIMEOUT)
