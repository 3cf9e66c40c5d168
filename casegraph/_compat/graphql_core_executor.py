# Follows upstream: graphql-core 3.3.2, graphql/execution/executor.py
# Follows upstream: strawberry-graphql 0.341.2, strawberry/schema/schema.py
# Follows upstream: strawberry-graphql 0.341.2, strawberry/types/arguments.py
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

from graphql import FieldNode, GraphQLField
from graphql.execution import Executor
from graphql.execution.values import get_argument_values
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.arguments import convert_arguments


class EventExecutor(StrawberryGraphQLCoreExecutionContext):
    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor


def field_arguments(
    executor: StrawberryGraphQLCoreExecutionContext, definition: GraphQLField, node: FieldNode
) -> dict[str, Any]:
    """The field's arguments as its resolver would get them: Strawberry's inputs, not raw dicts."""
    strawberry_schema = executor.schema._strawberry_schema  # type: ignore[attr-defined]
    return convert_arguments(
        get_argument_values(definition, node, executor.variable_values),
        definition.extensions["strawberry-definition"].arguments,
        scalar_registry=strawberry_schema.schema_converter.scalar_registry,
        config=strawberry_schema.config,
    )
