"""Strawberry's executor with per-event copies that keep nothing after their event.

graphql-core 3.3.2 (``graphql/execution/executor.py``, ``Executor.build_per_event_executor``)
runs each subscription event on a shallow copy of the subscription's executor, so every copy
writes into the one ``_relevant_sub_fields`` memo the subscription's executor owns. That memo is
keyed by the *identity* of the field lists an execution collects, and it keeps those lists
alive so that their ids cannot be reused; but each event collects its root fields afresh, so
its keys never recur. The memo therefore grows by every event's field lists, and with them by
everything they reach, for as long as the executor lives: a subscription's lifetime under
Strawberry, and under the fan-out (``casegraph/fanout/plans.py``) as long as anyone follows the
plan — about a kilobyte per execution, without bound.

A memo of its own per event loses nothing (no key would have recurred) and still serves its
purpose inside the event: the items of a list share one collection of their sub-fields.
"""

from __future__ import annotations

from typing import Any

from graphql.execution import Executor
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class EventExecutor(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor
