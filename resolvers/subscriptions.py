"""Thin glue for subscriptions: authorize, open a feed, turn deliveries into GraphQL objects.

Over graphql-transport-ws the event feeds are *followed* (``casegraph.fanout``): once the
subscriber is authorized it is handed to the registration on offer, and the generator ends
without yielding; the fan-out dispatcher executes the selection per event, once per visibility
class. Elsewhere (the legacy protocol, schema-level execution) the feed is iterated here.

Loaders are rebuilt per delivery: a WebSocket context lives as long as the connection, and a
loader kept in it would serve stale users and groups for hours.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Final

from graphql import GraphQLError

from casegraph.domain.enums import CaseStatus
from casegraph.events.feed import (
    QueueScope,
    case_filter,
    check_case_visible,
    every_visible_case,
    feed,
    group_id_for,
    parse_after,
    queue_filter,
)
from casegraph.events.hub import EventHub
from casegraph.fanout.registration import CountersSpec, live_registration
from casegraph.services.queue_counts import count_by_status, shared_recounts
from resolvers.loaders import Loaders
from resolvers.pipeline import refusals_as_errors
from schema.context import Info
from schema.types.case import CaseEvent, QueueCounters, StatusCount

# Counters are recomputed at most this often however fast events arrive.
COUNTER_MIN_INTERVAL: Final = 0.25


def _hub(info: Info) -> EventHub:
    live = info.context.live
    if live is None:
        raise GraphQLError("Live events are not running on this server.", extensions={"code": "UNAVAILABLE"})
    return live.hub


async def case_events(info: Info, case_id: str | None, after: str | None) -> AsyncGenerator[CaseEvent, None]:
    actor = info.context.require_actor()
    hub = _hub(info)
    with refusals_as_errors():
        start = parse_after(after)
        if case_id is not None:
            await check_case_visible(actor, case_id)
    flt = case_filter(case_id) if case_id is not None else every_visible_case()
    registration = live_registration()
    if registration is not None:
        registration.accept(hub=hub, actor=actor, flt=flt, after=start, info=info)
        return
    async for event, case in feed(hub=hub, actor=actor, flt=flt, after=start):
        info.context.loaders = Loaders(actor)
        yield CaseEvent.from_record(event, case=case)


async def queue_events(
    info: Info, scope: QueueScope, group_code: str | None, after: str | None
) -> AsyncGenerator[CaseEvent, None]:
    actor = info.context.require_actor()
    hub = _hub(info)
    with refusals_as_errors():
        start = parse_after(after)
        group_id = await group_id_for(group_code, actor)
    flt = queue_filter(scope, group_id)
    registration = live_registration()
    if registration is not None:
        registration.accept(hub=hub, actor=actor, flt=flt, after=start, info=info)
        return
    async for event, case in feed(hub=hub, actor=actor, flt=flt, after=start):
        info.context.loaders = Loaders(actor)
        yield CaseEvent.from_record(event, case=case)


async def queue_counters(info: Info, group_code: str) -> AsyncGenerator[QueueCounters, None]:
    actor = info.context.require_actor()
    hub = _hub(info)
    with refusals_as_errors():
        group_id = await group_id_for(group_code, actor)
    assert group_id is not None
    registration = live_registration()
    if registration is not None:
        # Over a WebSocket: one stream per group serves all its counters here (casegraph/fanout/streams.py).
        registration.share(spec=counters_spec(hub, group_id, group_code), info=info)
        return
    counts, head = await count_by_status(actor=actor, group_id=group_id)
    yield _counters(group_code, counts, head)
    # Every subscriber of the group woken by an event needs a recount taken at that event or
    # later: one serves them all (casegraph/services/queue_counts.py).
    recounts = shared_recounts(hub)
    async for event, _ in feed(hub=hub, actor=actor, flt=queue_filter(QueueScope.MY_GROUPS, group_id), after=head):
        if event.sequence <= head:
            continue  # already counted by the last recount
        await asyncio.sleep(COUNTER_MIN_INTERVAL)  # let a burst settle into one recount
        counts, head = await recounts.count(actor=actor, group_id=group_id, at_least=event.sequence)
        yield _counters(group_code, counts, head)


def counters_spec(hub: EventHub, group_id: int, group_code: str) -> CountersSpec:
    """What a followed ``queueCounters`` subscriber is: which group, and its value's objects."""

    def render(counts: dict[CaseStatus, int], head: int) -> QueueCounters:
        return _counters(group_code, counts, head)

    return CountersSpec(hub=hub, group_id=group_id, group_code=group_code, render=render)


def _counters(group_code: str, counts: dict[CaseStatus, int], head: int) -> QueueCounters:
    return QueueCounters(
        group_code=group_code,
        total=sum(counts.values()),
        by_status=[
            StatusCount(status=status, count=count)
            for status, count in sorted(counts.items(), key=lambda item: item[0].value)
        ],
        as_of_sequence=head,
    )
