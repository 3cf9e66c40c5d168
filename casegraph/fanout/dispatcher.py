"""The hub's sink for followed subscriptions: one execution per plan and visibility class.

For each event the hub hands over the audiences it reached, each with its actor as of this
event. Their live followers are grouped by plan; for each plan one follower executes the
selection with a ``RecordingContext``, and every follower whose actor ``shares`` what that
execution read gets the same payload. Those left over are served the same way, one more
execution each time, until every follower of the plan has its payload. Followers still
replaying hold the event instead.

``executions`` counts the shared executions (the regression guard in CI: one per plan and class
per event, whatever the number of subscribers); ``catch_up_executions`` the per-subscriber ones
of replays.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any

from graphql import FragmentDefinitionNode, OperationDefinitionNode
from prometheus_client import Gauge
from strawberry.schema import Schema

from casegraph.domain.relations import Actor
from casegraph.events.feed import FeedFilter
from casegraph.events.hub import EventHub, Followed
from casegraph.fanout.classes import serve_classes
from casegraph.fanout.execution import execute_payload, failure_payload
from casegraph.fanout.followers import Audience, Follower, Owner, State
from casegraph.fanout.outlet import Outlet
from casegraph.fanout.plans import Plan, PlanKey, build_plan, plan_key
from casegraph.fanout.registration import StreamSpec
from casegraph.fanout.streams import StreamFollower, Streams
from casegraph.fanout.viewer_reads import recording_context
from casegraph.services.records import CaseRecord, EventRecord
from schema.context import Context
from schema.types.case import CaseEvent

log = logging.getLogger(__name__)

AudienceKey = tuple[int, Actor, Hashable]


class FanoutDispatcher:
    def __init__(self, schema: Schema, *, gauge: Gauge | None = None) -> None:
        self.schema = schema
        self.gauge = gauge
        self._audiences: dict[AudienceKey, Audience] = {}
        self._plans: dict[PlanKey, Plan] = {}
        self.followers = 0
        self.executions = 0
        self.catch_up_executions = 0
        # casePresence and queueCounters: states, shared the same way (streams.py).
        self.streams = Streams(schema)

    @property
    def plan_count(self) -> int:
        return len(self._plans)

    def plan_for(
        self,
        *,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
    ) -> Plan:
        key = plan_key(query, operation_name, variables, operation, fragments)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = build_plan(
                self.schema,
                key=key,
                query=query,
                operation_name=operation_name,
                variables=variables,
                operation=operation,
                fragments=fragments,
            )
        return plan

    def follow(
        self,
        *,
        hub: EventHub,
        actor: Actor,
        flt: FeedFilter,
        plan: Plan,
        outlet: Outlet,
        context: Context,
        owner: Owner,
        operation_id: str,
        frame_type: str = "next",
    ) -> Follower:
        """Register a follower (replaying) with the hub: from now on no event passes it by."""
        key = (id(hub), actor, flt.key)
        audience = self._audiences.get(key)
        if audience is None:
            audience = self._audiences[key] = Audience(actor=actor, flt=flt, hub=hub, sink=self)
            hub.follow(audience)
        follower = Follower(
            dispatcher=self,
            plan=plan,
            audience=audience,
            outlet=outlet,
            context=context,
            owner=owner,
            operation_id=operation_id,
            frame_type=frame_type,
        )
        audience.by_plan.setdefault(plan, set()).add(follower)
        plan.followers += 1
        self.followers += 1
        if self.gauge is not None:
            self.gauge.inc()
        return follower

    def follow_stream(
        self,
        *,
        spec: StreamSpec,
        plan: Plan,
        outlet: Outlet,
        context: Context,
        owner: Owner,
        operation_id: str,
        frame_type: str = "next",
    ) -> StreamFollower:
        """Register a follower of a shared state (not yet started: ``start`` sends its first value)."""
        follower = self.streams.follow(
            spec=spec,
            plan=plan,
            outlet=outlet,
            context=context,
            owner=owner,
            operation_id=operation_id,
            released=self._released,
            frame_type=frame_type,
        )
        plan.followers += 1
        self.followers += 1
        if self.gauge is not None:
            self.gauge.inc()
        return follower

    def _released(self, plan: Plan) -> None:
        """A stream follower closed."""
        plan.followers -= 1
        if plan.followers == 0:
            self._plans.pop(plan.key, None)
        self.followers -= 1
        if self.gauge is not None:
            self.gauge.dec()

    def unfollow(self, follower: Follower) -> None:
        audience, plan = follower.audience, follower.plan
        members = audience.by_plan.get(plan)
        if members is None or follower not in members:
            return
        members.discard(follower)
        if not members:
            del audience.by_plan[plan]
            if not audience.by_plan:
                audience.hub.unfollow(audience)
                self._audiences.pop((id(audience.hub), audience.actor, audience.flt.key), None)
        plan.followers -= 1
        if plan.followers == 0:
            self._plans.pop(plan.key, None)
        self.followers -= 1
        if self.gauge is not None:
            self.gauge.dec()

    async def deliver(self, event: EventRecord, case: CaseRecord, reached: Sequence[tuple[Followed, Actor]]) -> None:
        groups: dict[Plan, list[tuple[Actor, list[Follower]]]] = {}
        for followed, actor in reached:
            assert isinstance(followed, Audience)
            for plan, members in followed.by_plan.items():
                live: list[Follower] = []
                for follower in members:
                    if follower.state is State.LIVE:
                        live.append(follower)
                    elif follower.state is State.REPLAYING:
                        follower.hold(event, case, actor)
                if live:
                    groups.setdefault(plan, []).append((actor, live))
        if not groups:
            return
        root = CaseEvent.from_record(event, case=case)
        for plan, entries in groups.items():
            await self._serve(plan, root, event.sequence, entries)

    async def _serve(
        self, plan: Plan, root: CaseEvent, sequence: int, entries: list[tuple[Actor, list[Follower]]]
    ) -> None:
        def serve(follower: Follower, payload: str, failed: bool) -> None:
            _serve_one(follower, payload, sequence, failed)

        self.executions += await serve_classes(self.schema, plan, root, entries, serve)

    async def execute_alone(self, follower: Follower, event: EventRecord, case: CaseRecord, actor: Actor) -> str | None:
        """One subscriber's payload for a replayed or held event (None: it failed, and ended)."""
        self.catch_up_executions += 1
        root = CaseEvent.from_record(event, case=case)
        context = recording_context(follower.context, actor)
        try:
            return await execute_payload(self.schema, follower.plan, root, context)
        except Exception as error:  # as in ``_serve``
            log.exception("executing a subscription event failed")
            follower.end(await failure_payload(self.schema, follower.plan, context, error))
            return None

    def hub_stopped(self) -> None:
        for audience in list(self._audiences.values()):
            for members in list(audience.by_plan.values()):
                for follower in list(members):
                    follower.end()


def _serve_one(follower: Follower, payload: str, sequence: int, failed: bool) -> None:
    if failed:
        follower.end(payload)
    else:
        follower.push(payload, sequence)
