"""A subscription document prepared once for per-event execution, and what makes two equal.

Two subscribers share a plan when they sent the same query text and operation name and the same
values for the variables the *payload* uses. The root field's own arguments (``caseId``,
``groupCode``, ``after``…) choose which events a subscriber gets, not what an event looks like,
so they do not split plans: dashboards resuming from different ``after`` still share.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    MiddlewareManager,
    Node,
    OperationDefinitionNode,
    VariableNode,
)
from graphql.execution import Executor
from strawberry.extensions import SchemaExtension
from strawberry.schema import Schema

from casegraph._compat.graphql_core_executor import EventExecutor
from casegraph._compat.strawberry_schema import graphql_schema

PlanKey = tuple[str, str | None, str]


@dataclass(eq=False)
class Plan:
    """The executor every event of this plan is executed with (copied per execution)."""

    key: PlanKey
    query: str
    operation_name: str | None
    variables: dict[str, Any] | None
    executor: Executor[Any]
    followers: int = 0


def payload_variables(operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]) -> set[str]:
    """Variables the payload's execution reads: all the operation uses but the root field's arguments.

    When the root selection is not a plain field (a fragment at the root), every variable counts.
    """
    found: set[str] = set()
    roots = operation.selection_set.selections
    plain = all(isinstance(selection, FieldNode) for selection in roots)
    for directive in operation.directives or ():
        _collect(directive, found)
    for selection in roots:
        if plain and isinstance(selection, FieldNode):
            for directive in selection.directives or ():
                _collect(directive, found)
            if selection.selection_set is not None:
                _collect(selection.selection_set, found)
        else:
            _collect(selection, found)
    for fragment in fragments.values():
        _collect(fragment, found)
    return found


def _collect(node: Node, found: set[str]) -> None:
    if isinstance(node, VariableNode):
        found.add(node.name.value)
        return
    for key in node.keys:
        value = getattr(node, key, None)
        if isinstance(value, Node):
            _collect(value, found)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, Node):
                    _collect(item, found)


def plan_key(
    query: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> PlanKey:
    used = payload_variables(operation, fragments)
    values = {name: value for name, value in (variables or {}).items() if name in used}
    return query, operation_name, json.dumps(values, sort_keys=True, separators=(",", ":"), default=repr)


def build_plan(
    schema: Schema,
    *,
    key: PlanKey,
    query: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> Plan:
    """The executor graphql-core's ``subscribe`` would build for this operation, kept for reuse."""
    document = DocumentNode(definitions=(operation, *fragments.values()))
    field_middleware = [
        extension for extension in schema.get_extensions() if type(extension).resolve is not SchemaExtension.resolve
    ]
    # Strawberry's own executor, not the schema's: the compiled one answers planned *queries*
    # (casegraph/fastpath), never a subscription's payload, and asks for the viewer first, which
    # would make every viewer a visibility class of its own. Its per-event copies keep nothing
    # once their event is served (_compat/graphql_core_executor.py): a plan lives as long as its followers.
    built = EventExecutor.build(
        graphql_schema(schema),
        document,
        None,
        None,
        variables,
        operation_name,
        middleware=MiddlewareManager(*field_middleware),
        operation_extensions=None,
    )
    if isinstance(built, list):  # validated already by Strawberry: only a changed schema gets here
        raise GraphQLError(f"subscription plan could not be built: {[error.message for error in built]}")
    return Plan(key=key, query=query, operation_name=operation_name, variables=variables, executor=built)
