"""Input objects converted from a plan made once per type (casegraph/_compat/strawberry_arguments.py)
come out exactly as Strawberry's own conversion builds them, whatever the fields' kinds."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import strawberry
import strawberry.types.arguments as upstream
from strawberry.relay import GlobalID
from strawberry.types.unset import UNSET

from casegraph._compat import strawberry_arguments
from schema import build_schema
from schema.inputs import UpdateCaseInput


@strawberry.enum
class Shade(enum.Enum):
    LIGHT = "LIGHT"
    DARK = "DARK"


@strawberry.input
class Inner:
    label: str
    shade: Shade | None = None


@strawberry.input
class Outer:
    required_id: strawberry.ID
    no_default: str | None
    text: str | None = None
    count: int | None = None
    shade: Shade = Shade.LIGHT
    inner: Inner | None = None
    inners: list[Inner] | None = None
    words: list[str] | None = None
    node: GlobalID | None = None
    maybe_text: strawberry.Maybe[str | None] = None


@strawberry.type
class Query:
    @strawberry.field
    def echo(self, value: Outer) -> str:
        return repr(value)


SCHEMA = strawberry.Schema(query=Query)
NODE = str(GlobalID("Case", "1"))

VALUES: list[dict[str, Any]] = [
    {"requiredId": "1"},
    {"requiredId": "1", "noDefault": None, "text": None, "count": None, "inner": None, "inners": None},
    {
        "requiredId": "2",
        "noDefault": "given",
        "text": "words",
        "count": 3,
        "shade": "DARK",
        "inner": {"label": "in", "shade": "LIGHT"},
        "inners": [{"label": "a"}, {"label": "b", "shade": "DARK"}],
        "words": ["x", "y"],
        "node": NODE,
        "maybeText": "perhaps",
    },
    {"requiredId": "3", "text": UNSET, "maybeText": None},
]


def _both(
    value: dict[str, Any], kind: type, schema: strawberry.Schema, monkeypatch: pytest.MonkeyPatch
) -> tuple[object, object]:
    """The planned conversion and Strawberry's own, its recursion included (nested inputs)."""
    registry, config = schema.schema_converter.scalar_registry, schema.config
    ours = strawberry_arguments.convert_argument(dict(value), kind, registry, config)
    with monkeypatch.context() as unpatched:
        unpatched.setattr(upstream, "convert_argument", strawberry_arguments._convert_argument)
        theirs = upstream.convert_argument(dict(value), kind, registry, config)
    return ours, theirs


@pytest.mark.parametrize("value", VALUES)
def test_an_input_object_comes_out_as_strawberry_builds_it(
    value: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # when
    ours, theirs = _both(value, Outer, SCHEMA, monkeypatch)
    # then: equal field by field, the nested objects, enums, GlobalID and Maybe included
    assert ours == theirs
    assert type(ours) is Outer
    assert vars(ours) == vars(theirs)


def test_the_schema_s_conversion_is_the_planned_one_once_a_schema_is_built() -> None:
    # when
    build_schema()
    # then: Strawberry's convert_arguments (and its own recursion) reach the planned conversion
    assert upstream.convert_argument is strawberry_arguments.convert_argument


def test_a_mutation_input_with_every_optional_field_filled_in_converts_as_upstream_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: what graphql-core hands over for updateCase(input: {caseId, comment}): every field
    # with its default filled in
    schema = build_schema()
    value: dict[str, Any] = {
        "caseId": "c1",
        "expectedVersion": None,
        "idempotencyKey": None,
        "title": None,
        "description": None,
        "impact": None,
        "urgency": None,
        "contactEmail": None,
        "contactPhone": None,
        "comment": "On it.",
        "workNote": None,
        "caseTypeCode": None,
        "latitude": None,
        "longitude": None,
    }
    # when
    ours, theirs = _both(value, UpdateCaseInput, schema, monkeypatch)
    # then
    assert ours == theirs and vars(ours) == vars(theirs)
