"""Hostile and malformed input: every refusal is clear, never a 5xx, and changes nothing.

api.md: expected refusals are data (``errors``) or top-level GraphQL errors; documents deeper than
15 levels or with more than 100 aliases are refused before execution; a bad token is
``UNAUTHENTICATED`` on any operation, a missing one on anything but introspection.
lifecycle.md: blank mandatory text and text over its limit are ``VALIDATION_FAILED`` naming the
field, and a refused action records nothing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from graphql import get_introspection_query
from tortoise.context import TortoiseContext

from casegraph.app import Runtime, create_app
from casegraph.auth import issue_token
from casegraph.domain.enums import CaseStage, CaseStatus, Role
from casegraph.domain.lifecycle import State
from casegraph.settings import Settings
from models import Case, CaseEvent, Comment, User, WorkNote
from tests.helpers import GraphQLClient, World, case_row, insert_case

MEGABYTE = 1024 * 1024
# A megabyte of text that still fits the request body limit (1 MiB, with the rest of the JSON):
# the field's own limit must refuse it. Bodies past the limit get 413 (tests/live/test_http_guards_over_sockets.py).
NEARLY_A_MEGABYTE = MEGABYTE - 4096
TITLE_LIMIT = 200
TEXT_LIMIT = 20_000

CREATE_CASE = """
mutation Create($input: CreateCaseInput!) {
  createCase(input: $input) { case { id description } errors { code field } }
}
"""

ASSIGN_TO_ME = """
mutation Take($input: AssignToMeInput!) {
  assignToMe(input: $input) { case { id version } errors { code field } }
}
"""


# Refusals made by the HTTP and GraphQL layers, before any resolver runs, do not depend on the
# database: those tests run on SQLite only; refusals made by the services run on every backend.
GRAPHQL_LAYER_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


# --- what "nothing changed" and "a clear error" mean ---------------------------------------------


@dataclass(frozen=True)
class Counts:
    cases: int
    events: int
    users: int
    comments: int
    work_notes: int


async def counts() -> Counts:
    return Counts(
        cases=await Case.all().count(),
        events=await CaseEvent.all().count(),
        users=await User.all().count(),
        comments=await Comment.all().count(),
        work_notes=await WorkNote.all().count(),
    )


def assert_clear_client_error(response: httpx.Response) -> None:
    """Not a server failure, and nothing of the server's insides in the body."""
    assert response.status_code < 500, response.text[:500]
    assert "Traceback" not in response.text
    assert 'File "' not in response.text


def top_level_errors(response: httpx.Response) -> list[dict[str, Any]]:
    """The errors of a GraphQL response that executed nothing (``data`` is null)."""
    assert_clear_client_error(response)
    body: dict[str, Any] = response.json()
    assert body.get("data") is None, body
    errors: list[dict[str, Any]] = body.get("errors") or []
    assert errors, body
    return errors


def error_codes(response: httpx.Response) -> list[str | None]:
    return [(error.get("extensions") or {}).get("code") for error in top_level_errors(response)]


def payload_errors(response: httpx.Response, mutation: str) -> list[dict[str, Any]]:
    """The ``errors`` of a mutation payload that was refused as data."""
    assert_clear_client_error(response)
    body: dict[str, Any] = response.json()
    assert not body.get("errors"), body["errors"]
    errors: list[dict[str, Any]] = body["data"][mutation]["errors"]
    return errors


@pytest.fixture
async def raw_http(db: TortoiseContext, settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app as a server would answer: an unhandled exception becomes a 500, not a test crash."""
    app = create_app(settings, manage_resources=False, runtime=runtime)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def new_case_input(**overrides: Any) -> dict[str, Any]:
    return {"caseTypeCode": "POTHOLE", "title": "Pothole on Elm Street", "impact": 2, "urgency": 2, **overrides}


# --- the HTTP body ---------------------------------------------------------------------------------

DEEPLY_NESTED_JSON = b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"


@GRAPHQL_LAYER_ONLY
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"query": "{ me { id } }"', id="truncated"),
        pytest.param(b"{query: '{ me { id } }'}", id="not-json"),
        pytest.param(b"", id="empty"),
        pytest.param(b'\xff\xfe{"query": "{ __typename }"}', id="not-utf8"),
        pytest.param(DEEPLY_NESTED_JSON, id="nested-100k-deep"),
    ],
)
async def test_a_malformed_json_body_is_a_client_error(
    raw_http: httpx.AsyncClient, world: World, settings: Settings, body: bytes
) -> None:
    # given
    before = await counts()
    # when
    response = await raw_http.post(
        "/graphql",
        content=body,
        headers={"content-type": "application/json", "authorization": f"Bearer {world.token(settings, 'agent')}"},
    )
    # then
    assert_clear_client_error(response)
    assert response.status_code == 400
    assert await counts() == before


@GRAPHQL_LAYER_ONLY
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'"{ me { id } }"', id="string"),
        pytest.param(b"42", id="number"),
        pytest.param(b"null", id="null"),
        pytest.param(b"true", id="boolean"),
        pytest.param(b"[]", id="empty-list"),
        pytest.param(b'[{"query": "{ me { id } }"}]', id="batch"),
    ],
)
async def test_a_json_body_that_is_not_an_object_is_a_client_error(
    raw_http: httpx.AsyncClient, world: World, settings: Settings, body: bytes
) -> None:
    # given
    before = await counts()
    # when
    response = await raw_http.post(
        "/graphql",
        content=body,
        headers={"content-type": "application/json", "authorization": f"Bearer {world.token(settings, 'agent')}"},
    )
    # then
    assert_clear_client_error(response)
    assert response.status_code == 400
    assert await counts() == before


@GRAPHQL_LAYER_ONLY
@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="empty-object"),
        pytest.param({"variables": {"id": "1"}}, id="variables-only"),
        pytest.param({"query": None}, id="null-query"),
        pytest.param({"query": 42}, id="number-query"),
        pytest.param({"query": ["{ me { id } }"]}, id="list-query"),
        pytest.param({"query": "{ me { id } }", "variables": "id=1"}, id="string-variables"),
        pytest.param({"query": "{ me { id } }", "variables": [1]}, id="list-variables"),
    ],
)
async def test_a_body_without_a_usable_query_is_a_client_error(
    raw_http: httpx.AsyncClient, world: World, settings: Settings, payload: dict[str, Any]
) -> None:
    # given
    before = await counts()
    # when
    response = await raw_http.post(
        "/graphql", json=payload, headers={"authorization": f"Bearer {world.token(settings, 'agent')}"}
    )
    # then
    assert_clear_client_error(response)
    assert response.status_code == 400
    assert await counts() == before


@GRAPHQL_LAYER_ONLY
async def test_a_body_of_an_unsupported_content_type_is_a_client_error(
    raw_http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    # given
    before = await counts()
    body = json.dumps({"query": CREATE_CASE, "variables": {"input": new_case_input()}})
    # when
    response = await raw_http.post(
        "/graphql",
        content=body,
        headers={"content-type": "text/plain", "authorization": f"Bearer {world.token(settings, 'requester')}"},
    )
    # then
    assert_clear_client_error(response)
    assert response.status_code in (400, 415)
    assert await counts() == before


@GRAPHQL_LAYER_ONLY
@pytest.mark.parametrize(
    "query",
    [
        pytest.param("", id="empty-document"),
        pytest.param("{ me { id }", id="unbalanced-braces"),
        pytest.param("mutation { createCase(input: {title: }) { errors { code } } }", id="missing-value"),
        pytest.param("{" + "me {" * 5_000 + "id" + "}" * 5_001, id="nested-5000-deep"),
        pytest.param("\x00\x01\x02", id="control-characters"),
    ],
)
async def test_a_document_that_does_not_parse_is_refused(
    client: GraphQLClient, world: World, settings: Settings, query: str
) -> None:
    # given
    before = await counts()
    # when
    response = await client.post(query, token=world.token(settings, "requester"))
    # then
    assert_clear_client_error(response)
    if response.status_code == 200:
        top_level_errors(response)
    else:
        assert response.status_code == 400
    assert await counts() == before


# --- the document against the schema ----------------------------------------------------------------


@GRAPHQL_LAYER_ONLY
@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param("{ me { id passwordHash } }", {}, id="unknown-field-on-me"),
        pytest.param("{ nope }", {}, id="unknown-root-field"),
        pytest.param("{ cases(first: 5) { totalCount edges { node { id secret } } } }", {}, id="unknown-nested-field"),
        pytest.param("{ cases(limit: 5) { totalCount } }", {}, id="unknown-argument"),
        pytest.param(
            "mutation Create($input: CreateCaseInput!) { createCase(input: $input) { case { id internal } } }",
            {"input": new_case_input()},
            id="unknown-field-in-mutation-selection",
        ),
        pytest.param(
            "mutation Create($input: CreateCaseInput!) { createCase(input: $input) }",
            {"input": new_case_input()},
            id="missing-selection-on-object",
        ),
        pytest.param(
            "mutation Create($input: CreateCaseInput!) { createCase(input: $input) { errors { code { x } } } }",
            {"input": new_case_input()},
            id="selection-on-leaf",
        ),
    ],
)
async def test_unknown_fields_in_a_selection_are_refused_before_execution(
    client: GraphQLClient, world: World, settings: Settings, query: str, variables: dict[str, Any]
) -> None:
    # given
    before = await counts()
    # when
    response = await client.post(query, variables, token=world.token(settings, "requester"))
    # then
    top_level_errors(response)
    assert await counts() == before


@GRAPHQL_LAYER_ONLY
@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param(CREATE_CASE, {"input": new_case_input(priority=1)}, id="derived-priority"),
        pytest.param(CREATE_CASE, {"input": new_case_input(status="CLOSED")}, id="status"),
        pytest.param(CREATE_CASE, {"input": new_case_input(version=7)}, id="version"),
        pytest.param(CREATE_CASE, {"input": new_case_input(assignedToId="dana")}, id="assignee"),
        pytest.param(CREATE_CASE, {"input": new_case_input(requester={"id": "bob"})}, id="nested-object"),
        pytest.param(
            'mutation { createCase(input: {caseTypeCode: "POTHOLE", title: "Hole", isAdmin: true}) '
            "{ errors { code } } }",
            {},
            id="inline-literal",
        ),
    ],
)
async def test_unknown_input_fields_are_refused(
    client: GraphQLClient, world: World, settings: Settings, query: str, variables: dict[str, Any]
) -> None:
    # given
    before = await counts()
    # when
    response = await client.post(query, variables, token=world.token(settings, "requester"))
    # then
    top_level_errors(response)
    assert await counts() == before


@GRAPHQL_LAYER_ONLY
@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param(CREATE_CASE, {"input": new_case_input(channel="FAX")}, id="unknown-channel"),
        pytest.param(CREATE_CASE, {"input": new_case_input(channel="portal")}, id="lower-case-channel"),
        pytest.param(CREATE_CASE, {"input": new_case_input(channel=3)}, id="channel-as-number"),
        pytest.param(
            'mutation { createCase(input: {caseTypeCode: "POTHOLE", title: "Hole", channel: FAX}) '
            "{ errors { code } } }",
            {},
            id="inline-unknown-channel",
        ),
        pytest.param(
            'mutation { createCase(input: {caseTypeCode: "POTHOLE", title: "Hole", channel: "PORTAL"}) '
            "{ errors { code } } }",
            {},
            id="inline-enum-as-string",
        ),
        pytest.param("{ cases(filter: {status: [NOPE]}) { totalCount } }", {}, id="unknown-status-filter"),
        pytest.param("{ cases(orderBy: {field: PASSWORD}) { totalCount } }", {}, id="unknown-order-field"),
    ],
)
async def test_wrong_enum_values_are_refused(
    client: GraphQLClient, world: World, settings: Settings, query: str, variables: dict[str, Any]
) -> None:
    # given
    before = await counts()
    # when
    response = await client.post(query, variables, token=world.token(settings, "requester"))
    # then
    top_level_errors(response)
    assert await counts() == before


async def test_a_wrong_resolution_code_is_refused_and_the_case_is_unchanged(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    case = await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.OPEN))
    before = await counts()
    query = """
    mutation Propose($input: ProposeSolutionInput!) {
      proposeSolution(input: $input) { case { status } errors { code field } }
    }
    """
    # when
    response = await client.post(
        query,
        {"input": {"caseId": case.id, "resolutionCode": "FIXED_IT", "resolutionNotes": "Patched."}},
        token=world.token(settings, "agent"),
    )
    # then
    top_level_errors(response)
    assert await counts() == before
    after = await case_row(case.id)
    assert (after.status, after.version) == (CaseStatus.OPEN, 1)


@GRAPHQL_LAYER_ONLY
@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param(CREATE_CASE, {"input": new_case_input(impact="high")}, id="string-for-int"),
        pytest.param(CREATE_CASE, {"input": new_case_input(impact=2**40)}, id="int-beyond-32-bits"),
        pytest.param(CREATE_CASE, {"input": new_case_input(impact=1.5)}, id="float-for-int"),
        pytest.param(CREATE_CASE, {"input": new_case_input(submit="yes")}, id="string-for-boolean"),
        pytest.param(CREATE_CASE, {"input": new_case_input(title=42)}, id="number-for-string"),
        pytest.param(CREATE_CASE, {"input": new_case_input(title={"text": "Hole"})}, id="object-for-string"),
        pytest.param(CREATE_CASE, {"input": new_case_input(caseTypeCode=["POTHOLE"])}, id="list-for-string"),
        pytest.param(CREATE_CASE, {"input": "caseTypeCode=POTHOLE"}, id="string-for-input-object"),
        pytest.param(CREATE_CASE, {"input": None}, id="null-for-required-input"),
        pytest.param(CREATE_CASE, {}, id="missing-required-variable"),
        pytest.param("{ cases(first: $n) { totalCount } }", {"n": 5}, id="undeclared-variable"),
        pytest.param("query Q($n: Int) { cases(first: $n) { totalCount } }", {"n": "ten"}, id="string-for-first"),
        pytest.param("query Q($id: ID!) { case(id: $id) { id } }", {"id": {"$ne": None}}, id="object-for-id"),
        pytest.param("query Q($id: ID!) { case(id: $id) { id } }", {"id": True}, id="boolean-for-id"),
        pytest.param("query Q($n: String!) { caseByNumber(number: $n) { id } }", {"n": ["CS1"]}, id="list-for-number"),
    ],
)
async def test_wrong_variable_types_are_refused(
    client: GraphQLClient, world: World, settings: Settings, query: str, variables: dict[str, Any]
) -> None:
    # given
    before = await counts()
    # when
    response = await client.post(query, variables, token=world.token(settings, "requester"))
    # then
    top_level_errors(response)
    assert await counts() == before


async def test_a_wrong_expected_version_type_is_refused_and_the_case_is_unchanged(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    case = await insert_case(world, assigned_to=None)
    before = await counts()
    # when
    response = await client.post(
        ASSIGN_TO_ME, {"input": {"caseId": case.id, "expectedVersion": "1"}}, token=world.token(settings, "agent")
    )
    # then
    top_level_errors(response)
    assert await counts() == before
    assert (await case_row(case.id)).version == 1


# --- text: blank, oversized, huge ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "error_field"),
    [
        pytest.param({"title": "   "}, "title", id="blank-title"),
        pytest.param({"title": "\t\n \r"}, "title", id="whitespace-title"),
        pytest.param({"title": "x" * (TITLE_LIMIT + 1)}, "title", id="title-over-200"),
        pytest.param({"title": " " + "x" * (TITLE_LIMIT + 1) + " "}, "title", id="padded-title-over-200"),
        pytest.param({"description": "x" * (TEXT_LIMIT + 1)}, "description", id="description-over-20000"),
        pytest.param({"title": "Pot\x00hole"}, "title", id="nul-in-title"),
        pytest.param({"caseTypeCode": "   "}, "caseTypeCode", id="blank-case-type"),
        pytest.param({"contactEmail": "x" * 400 + "@example.org"}, "contactEmail", id="email-over-limit"),
    ],
)
async def test_blank_or_oversized_text_is_refused_when_creating_a_case(
    client: GraphQLClient, world: World, settings: Settings, overrides: dict[str, Any], error_field: str
) -> None:
    # given
    before = await counts()
    # when
    response = await client.post(
        CREATE_CASE, {"input": new_case_input(**overrides)}, token=world.token(settings, "requester")
    )
    # then
    errors = payload_errors(response, "createCase")
    assert [(e["code"], e["field"]) for e in errors] == [("VALIDATION_FAILED", error_field)]
    assert response.json()["data"]["createCase"]["case"] is None
    assert await counts() == before


async def test_text_exactly_at_its_limit_is_accepted(client: GraphQLClient, world: World, settings: Settings) -> None:
    # given
    title = "T" * TITLE_LIMIT
    description = "d" * TEXT_LIMIT
    # when
    response = await client.post(
        CREATE_CASE,
        {"input": new_case_input(title=title, description=description)},
        token=world.token(settings, "requester"),
    )
    # then
    assert payload_errors(response, "createCase") == []
    created = await Case.get(id=response.json()["data"]["createCase"]["case"]["id"])
    assert (created.title, created.description) == (title, description)


@dataclass(frozen=True)
class ActionText:
    """One action's text input on a case in a state where the action is otherwise allowed."""

    mutation: str
    input_type: str
    state: State
    actor: str
    fields: dict[str, Any]
    error_field: str
    extra: dict[str, Any] = field(default_factory=dict)

    def document(self) -> str:
        return (
            f"mutation Act($input: {self.input_type}!) "
            f"{{ {self.mutation}(input: $input) {{ case {{ id version }} errors {{ code field }} }} }}"
        )


NEW: State = (CaseStage.INTAKE, CaseStatus.NEW)
INTAKE_OPEN: State = (CaseStage.INTAKE, CaseStatus.OPEN)
RESOLVED: State = (CaseStage.DECISION, CaseStatus.RESOLVED)
INSPECTING: State = (CaseStage.REVIEW, CaseStatus.INSPECTION_IN_PROGRESS)
SOLVED = {"resolutionCode": "SOLVED"}
LONG = "x" * (TEXT_LIMIT + 1)

ACTION_TEXTS = [
    ActionText("updateCase", "UpdateCaseInput", NEW, "agent", {"comment": "   "}, "comment"),
    ActionText("updateCase", "UpdateCaseInput", NEW, "agent", {"workNote": "\n\t "}, "workNote"),
    ActionText("updateCase", "UpdateCaseInput", NEW, "agent", {"title": "  "}, "title"),
    ActionText("updateCase", "UpdateCaseInput", NEW, "agent", {"title": "x" * (TITLE_LIMIT + 1)}, "title"),
    ActionText("updateCase", "UpdateCaseInput", NEW, "agent", {"comment": LONG}, "comment"),
    ActionText("updateCase", "UpdateCaseInput", NEW, "agent", {"workNote": LONG}, "workNote"),
    ActionText("updateCase", "UpdateCaseInput", NEW, "requester", {"description": LONG}, "description"),
    ActionText("requestInfo", "RequestInfoInput", INTAKE_OPEN, "agent", {"question": " \n "}, "question"),
    ActionText("requestInfo", "RequestInfoInput", INTAKE_OPEN, "agent", {"question": LONG}, "question"),
    ActionText(
        "proposeSolution",
        "ProposeSolutionInput",
        INTAKE_OPEN,
        "agent",
        {**SOLVED, "resolutionNotes": "   "},
        "resolutionNotes",
    ),
    ActionText(
        "proposeSolution",
        "ProposeSolutionInput",
        INTAKE_OPEN,
        "agent",
        {**SOLVED, "resolutionNotes": LONG},
        "resolutionNotes",
    ),
    ActionText("closeCase", "CloseCaseInput", INTAKE_OPEN, "agent", {"resolutionNotes": "   "}, "resolutionNotes"),
    ActionText("rejectSolution", "RejectSolutionInput", RESOLVED, "requester", {"reason": "\t"}, "reason"),
    ActionText(
        "completeInspection",
        "CompleteInspectionInput",
        INSPECTING,
        "agent",
        {"findings": "  "},
        "findings",
        extra={"inspector": "field_agent"},
    ),
]


@pytest.mark.parametrize(
    "text", ACTION_TEXTS, ids=[f"{t.mutation}-{t.error_field}-{len(str(t.fields))}" for t in ACTION_TEXTS]
)
async def test_blank_or_oversized_action_text_is_refused_naming_the_field(
    client: GraphQLClient, world: World, settings: Settings, text: ActionText
) -> None:
    # given
    case = await insert_case(world, state=text.state, **text.extra)
    before = await counts()
    # when
    response = await client.post(
        text.document(), {"input": {"caseId": case.id, **text.fields}}, token=world.token(settings, text.actor)
    )
    # then
    errors = payload_errors(response, text.mutation)
    assert [(e["code"], e["field"]) for e in errors] == [("VALIDATION_FAILED", text.error_field)]
    assert await counts() == before
    after = await case_row(case.id)
    assert (after.state, after.version, after.title) == (case.state, 1, case.title)


async def test_a_one_megabyte_description_is_refused_and_not_stored(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    huge = "A" * NEARLY_A_MEGABYTE
    before = await counts()
    # when
    response = await client.post(
        CREATE_CASE, {"input": new_case_input(description=huge)}, token=world.token(settings, "requester")
    )
    # then
    errors = payload_errors(response, "createCase")
    assert [(e["code"], e["field"]) for e in errors] == [("VALIDATION_FAILED", "description")]
    assert huge[:1000] not in response.text
    assert await counts() == before


async def test_a_one_megabyte_description_update_is_refused_and_the_old_one_kept(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    case = await insert_case(world)
    before = await counts()
    query = """
    mutation Update($input: UpdateCaseInput!) {
      updateCase(input: $input) { case { version } errors { code field } }
    }
    """
    # when
    response = await client.post(
        query,
        {"input": {"caseId": case.id, "description": "B" * NEARLY_A_MEGABYTE}},
        token=world.token(settings, "requester"),
    )
    # then
    errors = payload_errors(response, "updateCase")
    assert [(e["code"], e["field"]) for e in errors] == [("VALIDATION_FAILED", "description")]
    assert await counts() == before
    after = await case_row(case.id)
    assert (after.description, after.version) == (case.description, 1)


# --- limits: depth and aliases ----------------------------------------------------------------------

# A chain through the case graph that nests as deep as asked: case → history → edges → node → case…
# One item per page, so that depth is the only limit these documents come near (not complexity).
CYCLE = ("history(first: 1)", "edges", "node", "case")


def nested_selection(head: list[str], levels: int) -> str:
    """``levels`` nested fields (``head`` first, then round the case graph), ending in a leaf."""
    fields = list(head)
    while len(fields) < levels - 1:
        fields.append(CYCLE[(len(fields) - len(head)) % len(CYCLE)])
    return " { ".join(fields) + " { __typename" + " }" * len(fields)


def deep_cases_query(levels: int) -> str:
    return "{ " + nested_selection(["cases(first: 1)", "edges", "node"], levels) + " }"


def deep_create_mutation(levels: int) -> str:
    head = 'createCase(input: {caseTypeCode: "POTHOLE", title: "Deep"})'
    return "mutation { " + nested_selection([head, "case"], levels) + " }"


@GRAPHQL_LAYER_ONLY
async def test_a_document_within_the_depth_limit_runs(client: GraphQLClient, world: World, settings: Settings) -> None:
    # when
    body = await client.execute(deep_cases_query(15), token=world.token(settings, "agent"))
    # then
    assert not body.get("errors"), body
    assert body["data"]["cases"] == {"edges": []}


@GRAPHQL_LAYER_ONLY
@pytest.mark.parametrize("levels", [17, 20, 60])
async def test_a_query_deeper_than_15_levels_is_refused_before_execution(
    client: GraphQLClient, world: World, settings: Settings, levels: int
) -> None:
    # given
    await insert_case(world)
    before = await counts()
    # when
    response = await client.post(deep_cases_query(levels), token=world.token(settings, "agent"))
    # then
    top_level_errors(response)
    assert await counts() == before


@pytest.mark.parametrize("levels", [17, 40])
async def test_a_mutation_deeper_than_15_levels_is_refused_before_it_creates_anything(
    client: GraphQLClient, world: World, settings: Settings, levels: int
) -> None:
    # given
    before = await counts()
    # when
    response = await client.post(deep_create_mutation(levels), token=world.token(settings, "requester"))
    # then
    top_level_errors(response)
    assert await counts() == before


def aliased(count: int, field_text: str) -> str:
    return " ".join(f"a{i}: {field_text.format(i=i)}" for i in range(count))


@GRAPHQL_LAYER_ONLY
async def test_a_document_with_100_aliases_runs(client: GraphQLClient, world: World, settings: Settings) -> None:
    # when
    body = await client.execute("{ " + aliased(100, "__typename") + " }", token=world.token(settings, "agent"))
    # then
    assert not body.get("errors"), body
    assert len(body["data"]) == 100


@GRAPHQL_LAYER_ONLY
async def test_a_query_with_more_than_100_aliases_is_refused_before_execution(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    case = await insert_case(world)
    before = await counts()
    query = "{ " + aliased(101, f'case(id: "{case.id}") {{{{ id }}}}') + " }"
    # when
    response = await client.post(query, token=world.token(settings, "agent"))
    # then
    top_level_errors(response)
    assert await counts() == before


async def test_a_mutation_with_more_than_100_aliases_is_refused_before_it_creates_anything(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    before = await counts()
    mutation = (
        "mutation { "
        + aliased(101, 'createCase(input: {{caseTypeCode: "POTHOLE", title: "Alias {i}"}}) {{ errors {{ code }} }}')
        + " }"
    )
    # when
    response = await client.post(mutation, token=world.token(settings, "requester"))
    # then
    top_level_errors(response)
    assert await counts() == before


@GRAPHQL_LAYER_ONLY
async def test_aliases_hidden_in_nested_selections_count_towards_the_limit(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    before = await counts()
    query = "{ me { " + aliased(60, "id") + " } cases { " + aliased(41, "totalCount") + " } }"
    # when
    response = await client.post(query, token=world.token(settings, "agent"))
    # then
    top_level_errors(response)
    assert await counts() == before


# --- tokens ----------------------------------------------------------------------------------------

OTHER_SECRET = "another-secret-that-did-not-sign-casegraph-tokens"


def _bearer(token: str) -> str:
    return f"Bearer {token}"


def _expired(settings: Settings) -> str:
    return _bearer(issue_token(settings, sub="dana", roles=[Role.AGENT], name="Dana", ttl=timedelta(minutes=-5)))


def _other_secret(settings: Settings) -> str:
    return _bearer(issue_token(Settings(jwt_secret=OTHER_SECRET), sub="dana", roles=[Role.AGENT], name="Dana"))


def _unsigned(settings: Settings) -> str:
    payload = {"sub": "dana", "roles": ["ADMIN"], "exp": 4_102_444_800}
    return _bearer(jwt.encode(payload, key="", algorithm="none"))


def _tampered(settings: Settings) -> str:
    """A real token whose payload was edited to claim ADMIN, keeping the original signature."""
    header, payload, signature = issue_token(settings, sub="dana", roles=[Role.AGENT]).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["ADMIN"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return _bearer(f"{header}.{forged}.{signature}")


def _without_sub(settings: Settings) -> str:
    payload = {"roles": ["AGENT"], "exp": 4_102_444_800}
    return _bearer(jwt.encode(payload, settings.jwt_secret, algorithm="HS256"))


BAD_AUTHORIZATION: dict[str, Callable[[Settings], str]] = {
    "garbage-token": lambda s: "Bearer not-a-jwt",
    "three-garbage-parts": lambda s: "Bearer aaa.bbb.ccc",
    "expired": _expired,
    "other-secret": _other_secret,
    "alg-none": _unsigned,
    "tampered-payload": _tampered,
    "no-sub-claim": _without_sub,
    "oversized-token": lambda s: "Bearer " + "a" * 10_000,
    "bearer-without-token": lambda s: "Bearer",
    "basic-scheme": lambda s: "Basic ZGFuYTpwYXNzd29yZA==",
    "unknown-scheme": lambda s: "Token abc.def.ghi",
    "token-with-spaces": lambda s: "Bearer abc def ghi",
}

OPERATIONS: dict[str, str] = {
    "me": "{ me { id } }",
    "cases": "{ cases(first: 5) { totalCount } }",
    "case": '{ case(id: "CASE_ID") { id } }',  # inline: whatever scalar the argument is typed with
    "create-case": 'mutation { createCase(input: {caseTypeCode: "POTHOLE", title: "Hole"}) { errors { code } } }',
    "assign-to-me": "mutation M($caseId: ID!) { assignToMe(input: {caseId: $caseId}) { errors { code } } }",
    "schema-introspection": "{ __schema { queryType { name } } }",
    "type-introspection": '{ __type(name: "Case") { name } }',
    "typename": "{ __typename }",
    "mutation-typename": "mutation { __typename }",
}


async def _post_with_authorization(
    client: GraphQLClient, query: str, variables: dict[str, Any], authorization: str
) -> httpx.Response:
    return await client.http.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"authorization": authorization}
    )


def _variables_for(query: str, case_id: str) -> dict[str, Any]:
    return {"caseId": case_id} if "$caseId" in query else {}


def _with_case(query: str, case_id: str) -> str:
    return query.replace("CASE_ID", case_id)


@pytest.mark.parametrize("authorization", list(BAD_AUTHORIZATION), ids=list(BAD_AUTHORIZATION))
async def test_a_bad_token_is_unauthenticated_on_any_operation(
    client: GraphQLClient, world: World, settings: Settings, authorization: str
) -> None:
    # given
    case = await insert_case(world, assigned_to=None)
    header = BAD_AUTHORIZATION[authorization](settings)
    before = await counts()
    # when
    responses = {
        name: await _post_with_authorization(client, _with_case(query, case.id), _variables_for(query, case.id), header)
        for name, query in OPERATIONS.items()
    }
    # then
    assert {name: error_codes(r) for name, r in responses.items()} == {name: ["UNAUTHENTICATED"] for name in OPERATIONS}
    assert await counts() == before
    assert (await case_row(case.id)).version == 1


INTROSPECTION_ONLY = ("schema-introspection", "type-introspection", "typename", "mutation-typename")
MISSING_TOKEN_REFUSED = {name: query for name, query in OPERATIONS.items() if name not in INTROSPECTION_ONLY} | {
    "introspection-beside-data": "{ __typename me { id } }",
    "schema-beside-data": "{ __schema { queryType { name } } cases { totalCount } }",
    "data-in-fragment": "query { ...Mine } fragment Mine on Query { me { id } }",
    "data-in-inline-fragment": "query { ... on Query { me { id } } }",
    "aliased-data": "{ __typename: me { id } }",
}


@pytest.mark.parametrize("operation", list(MISSING_TOKEN_REFUSED), ids=list(MISSING_TOKEN_REFUSED))
async def test_a_missing_token_is_unauthenticated_outside_introspection(
    client: GraphQLClient, world: World, operation: str
) -> None:
    # given
    case = await insert_case(world, assigned_to=None)
    query = MISSING_TOKEN_REFUSED[operation]
    before = await counts()
    # when
    response = await client.post(_with_case(query, case.id), _variables_for(query, case.id))
    # then
    assert error_codes(response) == ["UNAUTHENTICATED"]
    assert await counts() == before
    assert (await case_row(case.id)).version == 1


@GRAPHQL_LAYER_ONLY
@pytest.mark.parametrize(
    "query",
    [
        pytest.param(OPERATIONS["schema-introspection"], id="schema"),
        pytest.param(OPERATIONS["type-introspection"], id="type"),
        pytest.param(OPERATIONS["typename"], id="typename"),
        pytest.param(OPERATIONS["mutation-typename"], id="mutation-typename"),
        pytest.param("{ __schema { types { name fields { name } } } }", id="full-type-list"),
    ],
)
async def test_introspection_without_a_token_works_in_development(
    client: GraphQLClient, db: TortoiseContext, query: str
) -> None:
    # given
    before = await counts()
    # when
    body = await client.execute(query)
    # then
    assert not body.get("errors"), body
    assert body["data"]
    assert await counts() == before


@GRAPHQL_LAYER_ONLY
async def test_the_full_introspection_query_works_without_a_token_in_development(
    client: GraphQLClient, db: TortoiseContext
) -> None:
    # when
    body = await client.execute(get_introspection_query())
    # then
    assert not body.get("errors"), body
    type_names = {t["name"] for t in body["data"]["__schema"]["types"]}
    assert {"Case", "CaseEvent", "CaseStatus", "ErrorCode"} <= type_names
