# Follows upstream: strawberry-graphql 0.341.2, strawberry/types/arguments.py
"""Converting an input object argument without working out its fields again on every request.

Strawberry turns each argument's GraphQL value into Python with ``convert_argument``, which, for
an input object, asks every field for its GraphQL name and resolved type and tests what kind of
type that is, field by field, request after request. A mutation's input has a dozen optional
fields, all present (graphql-core fills in their ``None`` defaults), so that was the largest
single cost of running a mutation outside the resolver itself.

``use_planned_input_conversion`` swaps the module's ``convert_argument`` (which
``convert_arguments`` and the upstream function's own recursion look up by name) for one that,
for an input object type without ``from_input``, works out once per type which fields take their
value as it comes (a scalar other than ``GlobalID``, optional or not: upstream returns those
unchanged) and hands every other field, and every other kind of type, to the upstream function.
The result is what upstream builds: the same keyword arguments, the same implicit ``None`` for
fields without a default, the same constructor call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass
from typing import Any

import strawberry.types.arguments as upstream
from strawberry.relay.types import GlobalID
from strawberry.types.base import StrawberryMaybe, StrawberryOptional, has_object_definition
from strawberry.types.unset import UNSET

_convert_argument = upstream.convert_argument


@dataclass(frozen=True)
class _InputPlan:
    config: object  # the schema config it was made for (its name converter named the fields)
    scalar_registry: object
    implicit_none: tuple[str, ...]  # fields without a default: None unless the value names them
    # (GraphQL name, Python name, the field's type, or None when its value is taken as it comes)
    fields: tuple[tuple[str, str, Any], ...]


_plans: dict[type, _InputPlan | None] = {}


def _as_it_comes(field_type: Any, scalar_registry: Mapping[object, Any]) -> bool:
    """Whether upstream returns any value of this type unchanged: a scalar other than GlobalID,
    or such a scalar made optional (not ``Maybe``, which wraps the value)."""
    if isinstance(field_type, StrawberryMaybe):
        return False
    if isinstance(field_type, StrawberryOptional):
        field_type = field_type.of_type
    if field_type is GlobalID:
        return False
    return bool(upstream._is_leaf_type(field_type, scalar_registry))


def _plan(type_: type, scalar_registry: Mapping[object, Any], config: Any) -> _InputPlan | None:
    plan = _plans.get(type_)
    if plan is not None and plan.config is config and plan.scalar_registry is scalar_registry:
        return plan
    if plan is None and type_ in _plans:
        return None  # not an input object this module converts
    if not has_object_definition(type_):
        _plans[type_] = None
        return None
    definition = type_.__strawberry_definition__
    if not definition.is_input or definition.from_input is not None:
        _plans[type_] = None
        return None
    fields = []
    for field in definition.fields:
        field_type = field.resolve_type(type_definition=definition)
        kept = _as_it_comes(field_type, scalar_registry)
        fields.append((config.name_converter.from_field(field), field.python_name, None if kept else field_type))
    plan = _InputPlan(
        config=config,
        scalar_registry=scalar_registry,
        implicit_none=tuple(
            field.python_name
            for field in definition.fields
            if field.default_value is MISSING and field.default_factory is MISSING
        ),
        fields=tuple(fields),
    )
    _plans[type_] = plan
    return plan


def convert_argument(
    value: object,
    type_: Any,
    scalar_registry: Mapping[object, Any],
    config: Any,
    info: Any = None,
    *,
    path: tuple[str | int, ...] = (),
) -> object:
    if value is not None and value is not UNSET and isinstance(type_, type):
        plan = _plan(type_, scalar_registry, config)
        if plan is not None:
            given: Mapping[str, Any] = value  # type: ignore[assignment]  # an input object's value
            kwargs: dict[str, object] = dict.fromkeys(plan.implicit_none)
            for graphql_name, python_name, field_type in plan.fields:
                if graphql_name in given:
                    item = given[graphql_name]
                    kwargs[python_name] = (
                        item
                        if field_type is None
                        else convert_argument(
                            item, field_type, scalar_registry, config, info, path=(*path, graphql_name)
                        )
                    )
            return type_(**kwargs)
    return _convert_argument(value, type_, scalar_registry, config, info, path=path)


def use_planned_input_conversion() -> None:
    """Idempotent; called where the schema is built (``schema.build_schema``)."""
    upstream.convert_argument = convert_argument
