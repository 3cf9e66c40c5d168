"""Planning a document for the compiled path: which fields, under which response keys, when.

A plan is made once per (document, operation) from the validated document. It flattens each
selection set — fragments spread and inline fragments opened — into the fields it selects, each
with the ``@skip``/``@include`` conditions on its way. It refuses (returns None) anything outside
``SUPPORTED``: other fields, arguments other than ``Query.cases``'s, other directives, fragments
on other types. Refused operations execute normally.

A request turns the plan into a ``Shape`` with its variables: conditions evaluated, fields
with the same response key merged (their sub-selections joined), in the order graphql-core's
``collect_fields`` gives (first appearance of each key). Shapes are kept per combination of the
condition variables' values; most documents have none, so one shape serves every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

from casegraph.fastpath.fields import SUPPORTED, VIEWER

TYPENAME: Final = "__typename"
# The only field that takes arguments on the compiled path; the others take none.
FIELDS_WITH_ARGUMENTS: Final = frozenset({("Query", "cases")})


@dataclass(frozen=True, slots=True)
class Condition:
    """``@include`` (when ``include``) or ``@skip``, on a literal or a variable."""

    include: bool
    literal: bool | None
    variable: str | None

    def holds(self, variables: Mapping[str, object]) -> bool:
        value = self.literal if self.variable is None else variables.get(self.variable)
        return bool(value) if self.include else not value


@dataclass(frozen=True, slots=True)
class Selected:
    """One field as written, with the conditions on its way from its parent."""

    key: str
    name: str
    node: FieldNode
    conditions: tuple[Condition, ...]
    type_name: str  # the named type of the field (its object type, or a scalar's name)
    children: tuple[Selected, ...]


@dataclass(frozen=True, slots=True)
class Field:
    """A field of a shape: response key, field name, its first node (for arguments), sub-shape."""

    key: str
    name: str
    node: FieldNode
    type_name: str
    children: tuple[Field, ...]

    def child(self, name: str) -> tuple[Field, ...]:
        return tuple(f for f in self.children if f.name == name)


@dataclass
class OperationPlan:
    root: tuple[Selected, ...]
    # Variables conditions read: a shape is kept per combination of their values.
    condition_variables: tuple[str, ...]
    shapes: dict[tuple[object, ...], tuple[Field, ...]] = field(default_factory=dict)

    def shape(self, variables: Mapping[str, object]) -> tuple[Field, ...]:
        key = tuple(variables.get(name) for name in self.condition_variables)
        found = self.shapes.get(key)
        if found is None:
            found = _merge(self.root, variables)
            if len(self.shapes) < 64:  # the values are booleans: a handful of combinations at most
                self.shapes[key] = found
        return found


class _Unsupported(Exception):
    pass


def plan_operation(
    schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> OperationPlan | None:
    """The plan, or None when the operation is not one the compiled path knows."""
    if operation.operation is not OperationType.QUERY or schema.query_type is None:
        return None
    variables: set[str] = set()
    try:
        root = _flatten(schema, operation.selection_set, schema.query_type, (), fragments, variables, set())
    except _Unsupported:
        return None
    return OperationPlan(root=root, condition_variables=tuple(sorted(variables)))


def _flatten(
    schema: GraphQLSchema,
    selection_set: SelectionSetNode,
    parent: GraphQLObjectType,
    conditions: tuple[Condition, ...],
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: set[str],
    entered: set[str],
    scope: str | None = None,
) -> tuple[Selected, ...]:
    """``scope``: the ``SUPPORTED`` entry for these fields, when not their type's (``VIEWER``)."""
    scope = scope or parent.name
    found: list[Selected] = []
    for selection in selection_set.selections:
        here = conditions + _conditions(selection.directives or (), variables)
        if isinstance(selection, FieldNode):
            found.append(_field(schema, selection, parent, here, fragments, variables, entered, scope))
        elif isinstance(selection, InlineFragmentNode):
            if selection.type_condition is not None and selection.type_condition.name.value != parent.name:
                raise _Unsupported
            found.extend(_flatten(schema, selection.selection_set, parent, here, fragments, variables, entered, scope))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or fragment.type_condition.name.value != parent.name or name in entered:
                raise _Unsupported
            if fragment.variable_definitions:
                raise _Unsupported  # fragment arguments (experimental) are not planned
            entered.add(name)
            try:
                found.extend(
                    _flatten(schema, fragment.selection_set, parent, here, fragments, variables, entered, scope)
                )
            finally:
                entered.discard(name)
        else:  # pragma: no cover - the three kinds of selection
            raise _Unsupported
    return tuple(found)


def _field(
    schema: GraphQLSchema,
    node: FieldNode,
    parent: GraphQLObjectType,
    conditions: tuple[Condition, ...],
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: set[str],
    entered: set[str],
    scope: str,
) -> Selected:
    name = node.name.value
    key = node.alias.value if node.alias is not None else name
    if name == TYPENAME:
        return Selected(key, name, node, conditions, "String", ())
    if name not in SUPPORTED.get(scope, ()):
        raise _Unsupported
    if node.arguments and (parent.name, name) not in FIELDS_WITH_ARGUMENTS:
        raise _Unsupported
    definition = parent.fields.get(name)
    if definition is None:
        raise _Unsupported
    named: GraphQLNamedType = get_named_type(definition.type)
    children: tuple[Selected, ...] = ()
    if node.selection_set is not None:
        if not isinstance(named, GraphQLObjectType):
            raise _Unsupported
        # `me` is a User, read from the token and the viewer's own row: fields of its own.
        inner = VIEWER if (parent is schema.query_type and name == "me") else None
        children = _flatten(schema, node.selection_set, named, (), fragments, variables, entered, inner)
    return Selected(key, name, node, conditions, named.name, children)


def _conditions(directives: object, variables: set[str]) -> tuple[Condition, ...]:
    found: list[Condition] = []
    for directive in directives:  # type: ignore[attr-defined]
        name = directive.name.value
        if name not in ("skip", "include"):
            raise _Unsupported
        [argument] = directive.arguments
        value = argument.value
        if isinstance(value, VariableNode):
            variables.add(value.name.value)
            found.append(Condition(include=name == "include", literal=None, variable=value.name.value))
        elif isinstance(value, BooleanValueNode):
            found.append(Condition(include=name == "include", literal=value.value, variable=None))
        else:
            raise _Unsupported
    return tuple(found)


def _merge(selected: tuple[Selected, ...], variables: Mapping[str, object]) -> tuple[Field, ...]:
    """Active fields by response key in order of first appearance, their selections joined."""
    order: list[str] = []
    by_key: dict[str, list[Selected]] = {}
    for item in selected:
        if not all(condition.holds(variables) for condition in item.conditions):
            continue
        if item.key not in by_key:
            order.append(item.key)
            by_key[item.key] = []
        by_key[item.key].append(item)
    merged = []
    for key in order:
        items = by_key[key]
        first = items[0]
        children = tuple(child for item in items for child in item.children)
        merged.append(Field(key, first.name, first.node, first.type_name, _merge(children, variables)))
    return tuple(merged)
