"""Query cost limits (api.md *Limits*, issue 5): depth, aliases, tokens and complexity.

Each limit is configurable (``Settings.query_limits``, CASEGRAPH_MAX_*), passes a document exactly
at it and refuses one just past it, before anything runs: a top-level error without a path,
``extensions = {code: QUERY_LIMIT_EXCEEDED, limit, max, actual}``, ``data`` null, nothing changed.
Complexity estimates the fields resolved: 1 per field, lists multiplied by their page size
(``first``, capped by ``max_page_size``) or by an assumed size (``ASSUMED_LIST_SIZE``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from graphql import get_introspection_query, parse
from tortoise.context import TortoiseContext

from casegraph.app import Runtime, create_app
from casegraph.auth import TokenVerifier
from casegraph.settings import QueryLimits, Settings
from models import Case, CaseEvent
from schema import build_schema
from schema.context import Context
from schema.limits import ASSUMED_LIST_SIZE, LIST_SIZE, QUERY_LIMIT_EXCEEDED, measure
from tests.helpers import FakeClock, GraphQLClient, RecordingPublisher, World, insert_case

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"

Limited = Callable[..., AbstractAsyncContextManager[GraphQLClient]]


@pytest.fixture
def limited(db: TortoiseContext, settings: Settings, clock: FakeClock, publisher: RecordingPublisher) -> Limited:
    """A client of an app whose query limits are the defaults but for the ones given."""

    @asynccontextmanager
    async def open_client(**limits: int) -> AsyncIterator[GraphQLClient]:
        configured = dataclasses.replace(settings, query_limits=QueryLimits(**limits))
        runtime = Runtime(settings=configured, verifier=TokenVerifier(configured), clock=clock, publisher=publisher)
        app = create_app(configured, manage_resources=False, runtime=runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            yield GraphQLClient(http, configured)

    return open_client


def limit_refusal(response: httpx.Response) -> dict[str, Any]:
    """The one error of a request refused for a limit, checked for the shape every refusal has."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body.get("data") is None, body
    error: dict[str, Any]
    [error] = body["errors"]
    assert "path" not in error, error
    assert error["extensions"]["code"] == QUERY_LIMIT_EXCEEDED, error
    assert error["message"].startswith("Query limit exceeded: "), error
    return error


async def runs(
    client: GraphQLClient, query: str, variables: dict[str, Any] | None = None, *, token: str
) -> dict[str, Any]:
    return await client.data(query, variables, token=token)


# --- configuration ----------------------------------------------------------------------------------


def test_query_limits_are_read_from_the_environment(tmp_path: Path) -> None:
    # when
    settings = Settings.from_env(
        {
            "CASEGRAPH_MAX_DEPTH": "7",
            "CASEGRAPH_MAX_ALIASES": "8",
            "CASEGRAPH_MAX_TOKENS": "900",
            "CASEGRAPH_MAX_COMPLEXITY": "1234",
            "CASEGRAPH_MAX_PAGE_SIZE": "25",
            "CASEGRAPH_MAX_REPRESENTATIONS": "60",
        },
        dotenv=tmp_path / ".env",
    )
    # then
    assert settings.query_limits == QueryLimits(
        max_depth=7, max_aliases=8, max_tokens=900, max_complexity=1234, max_page_size=25, max_representations=60
    )


def test_the_default_query_limits_are_those_of_the_api() -> None:
    # then: api.md fixes depth, aliases and the page size
    assert Settings.from_env({}, dotenv=Path("/nonexistent/.env")).query_limits == QueryLimits(
        max_depth=15,
        max_aliases=100,
        max_tokens=5000,
        max_complexity=20000,
        max_page_size=100,
        max_representations=500,
    )


# --- depth ------------------------------------------------------------------------------------------


async def test_a_document_exactly_as_deep_as_the_limit_runs(limited: Limited, world: World, settings: Settings) -> None:
    async with limited(max_depth=4) as client:
        # when: cases → edges → node → id
        data = await runs(client, "{ cases(first: 1) { edges { node { id } } } }", token=world.token(settings, "agent"))
    # then
    assert data == {"cases": {"edges": []}}


async def test_a_document_one_level_deeper_than_the_limit_is_refused_with_the_numbers(
    limited: Limited, world: World, settings: Settings
) -> None:
    async with limited(max_depth=4) as client:
        # when
        response = await client.post(
            "{ cases(first: 1) { edges { node { assignee { id } } } } }", token=world.token(settings, "agent")
        )
    # then
    error = limit_refusal(response)
    assert error["extensions"] == {"code": QUERY_LIMIT_EXCEEDED, "limit": "depth", "max": 4, "actual": 5}
    assert "5 levels deep" in error["message"] and "at most 4" in error["message"]


async def test_depth_counts_the_fields_a_fragment_brings_in(limited: Limited, world: World, settings: Settings) -> None:
    query = """
    { cases(first: 1) { ...Rows } }
    fragment Rows on CaseConnection { edges { node { assignee { id } } } }
    """
    async with limited(max_depth=4) as client:
        # when
        response = await client.post(query, token=world.token(settings, "agent"))
    # then
    assert limit_refusal(response)["extensions"]["actual"] == 5


# --- aliases ----------------------------------------------------------------------------------------


async def test_a_document_with_as_many_aliases_as_the_limit_runs(
    limited: Limited, world: World, settings: Settings
) -> None:
    async with limited(max_aliases=3) as client:
        # when
        data = await runs(client, "{ a: __typename b: __typename c: __typename }", token=world.token(settings, "agent"))
    # then
    assert data == {"a": "Query", "b": "Query", "c": "Query"}


async def test_one_alias_more_than_the_limit_is_refused_with_the_numbers(
    limited: Limited, world: World, settings: Settings
) -> None:
    async with limited(max_aliases=3) as client:
        # when
        response = await client.post(
            "{ a: __typename b: __typename c: __typename d: __typename }", token=world.token(settings, "agent")
        )
    # then
    error = limit_refusal(response)
    assert error["extensions"] == {"code": QUERY_LIMIT_EXCEEDED, "limit": "aliases", "max": 3, "actual": 4}
    assert "4 aliases" in error["message"] and "at most 3" in error["message"]


async def test_aliases_in_a_fragment_count_once_per_spread(limited: Limited, world: World, settings: Settings) -> None:
    query = """
    { me { ...Names } mine: me { ...Names } }
    fragment Names on User { first: id second: name }
    """
    async with limited(max_aliases=4) as client:
        # when: mine, then first and second twice
        response = await client.post(query, token=world.token(settings, "agent"))
    # then
    assert limit_refusal(response)["extensions"]["actual"] == 5


# --- tokens -----------------------------------------------------------------------------------------


async def test_a_document_of_exactly_the_token_limit_runs(limited: Limited, world: World, settings: Settings) -> None:
    async with limited(max_tokens=6) as client:
        # when: { me { id } } is six tokens
        data = await runs(client, "{ me { id } }", token=world.token(settings, "agent"))
    # then
    assert data == {"me": {"id": world.sub("agent")}}


@pytest.mark.parametrize("query", ["{ me { id name } }", "{ me { id } } # a comment is a token too"])
async def test_one_token_more_than_the_limit_is_refused_before_parsing_goes_on(
    limited: Limited, world: World, settings: Settings, query: str
) -> None:
    async with limited(max_tokens=6) as client:
        # when
        response = await client.post(query, token=world.token(settings, "agent"))
    # then: the parser stops at the limit, so the total is not known
    error = limit_refusal(response)
    assert error["extensions"] == {"code": QUERY_LIMIT_EXCEEDED, "limit": "tokens", "max": 6}
    assert "more than 6 tokens" in error["message"]


# --- complexity -------------------------------------------------------------------------------------

# 1 (cases) + 1 (edges) + first × 1 (cursor): exactly 2 + first.
PAGE_OF_CURSORS = "query Page($n: Int) { cases(first: $n) { edges { cursor } } }"


async def test_an_operation_costing_exactly_the_limit_runs(limited: Limited, world: World, settings: Settings) -> None:
    async with limited(max_complexity=42) as client:
        # when
        data = await runs(client, PAGE_OF_CURSORS, {"n": 40}, token=world.token(settings, "agent"))
    # then
    assert data == {"cases": {"edges": []}}


async def test_a_page_size_from_a_variable_that_costs_one_more_than_the_limit_is_refused(
    limited: Limited, world: World, settings: Settings
) -> None:
    async with limited(max_complexity=42) as client:
        # when
        response = await client.post(PAGE_OF_CURSORS, {"n": 41}, token=world.token(settings, "agent"))
    # then
    error = limit_refusal(response)
    assert error["extensions"] == {"code": QUERY_LIMIT_EXCEEDED, "limit": "complexity", "max": 42, "actual": 43}
    assert "43" in error["message"] and "at most 42" in error["message"]


async def test_a_variables_default_page_size_is_what_counts_when_no_value_is_sent(
    limited: Limited, world: World, settings: Settings
) -> None:
    query = "query Page($n: Int = 41) { cases(first: $n) { edges { cursor } } }"
    async with limited(max_complexity=42) as client:
        # when
        refused = await client.post(query, token=world.token(settings, "agent"))
        allowed = await client.post(query, {"n": 40}, token=world.token(settings, "agent"))
    # then
    assert limit_refusal(refused)["extensions"]["actual"] == 43
    assert allowed.json() == {"data": {"cases": {"edges": []}}}


async def test_without_first_a_connection_costs_its_default_page(
    limited: Limited, world: World, settings: Settings
) -> None:
    async with limited(max_complexity=1) as client:
        # when
        response = await client.post("{ cases { edges { cursor } } }", token=world.token(settings, "agent"))
    # then: 2 + the default page of 20
    assert limit_refusal(response)["extensions"]["actual"] == 22


async def test_lists_without_a_page_size_count_as_the_assumed_size(
    limited: Limited, world: World, settings: Settings
) -> None:
    async with limited(max_complexity=1) as client:
        # when
        response = await client.post(
            "{ cases(first: 3) { edges { node { tasks { id } } } } }", token=world.token(settings, "agent")
        )
    # then: cases + edges + 3 × (node + tasks + ASSUMED_LIST_SIZE × id)
    assert limit_refusal(response)["extensions"]["actual"] == 2 + 3 * (2 + ASSUMED_LIST_SIZE)


# --- federation: _entities -------------------------------------------------------------------------

# 1 (_entities) + per representation 2 (id, number): exactly 1 + 2 × representations.
ENTITY_NUMBERS = "query E($r: [_Any!]!) { _entities(representations: $r) { ... on Case { id number } } }"
# What a gateway could be made to send: one case's history page for every representation.
ENTITY_HISTORIES = (
    "query E($r: [_Any!]!) { _entities(representations: $r) { ... on Case { id "
    "history(first: 100) { edges { node { id sequence action actor { id name } } } } } } }"
)


async def test_each_entity_representation_counts_towards_the_complexity(
    limited: Limited, world: World, settings: Settings
) -> None:
    # given
    case = await insert_case(world)
    token = world.token(settings, "agent")
    async with limited(max_complexity=21) as client:
        # when: ten representations cost exactly the limit, eleven one field-pair more
        allowed = await runs(client, ENTITY_NUMBERS, {"r": [{"__typename": "Case", "id": case.id}] * 10}, token=token)
        refused = await client.post(ENTITY_NUMBERS, {"r": [{"__typename": "Case", "id": case.id}] * 11}, token=token)
        literal = await client.post(
            "{ _entities(representations: ["
            + ", ".join([f'{{__typename: "Case", id: "{case.id}"}}'] * 11)
            + "]) { ... on Case { id number } } }",
            token=token,
        )
    # then
    assert [entity["number"] for entity in allowed["_entities"]] == [case.number] * 10
    for response in (refused, literal):
        assert limit_refusal(response)["extensions"] == {
            "code": QUERY_LIMIT_EXCEEDED,
            "limit": "complexity",
            "max": 21,
            "actual": 23,
        }


async def test_an_entities_call_with_more_representations_than_allowed_is_refused(
    limited: Limited, world: World, settings: Settings
) -> None:
    # given
    case = await insert_case(world)
    token = world.token(settings, "agent")
    representation = {"__typename": "Case", "id": case.id}
    async with limited(max_representations=3) as client:
        # when
        allowed = await runs(client, ENTITY_NUMBERS, {"r": [representation] * 3}, token=token)
        refused = await client.post(ENTITY_NUMBERS, {"r": [representation] * 4}, token=token)
    # then
    assert len(allowed["_entities"]) == 3
    error = limit_refusal(refused)
    assert error["extensions"] == {"code": QUERY_LIMIT_EXCEEDED, "limit": "representations", "max": 3, "actual": 4}
    assert "at most 3" in error["message"]


async def test_a_thousand_representations_of_one_case_history_are_refused_before_running(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given the default limits and a case with a history
    case = await insert_case(world)
    # when
    response = await client.post(
        ENTITY_HISTORIES, {"r": [{"__typename": "Case", "id": case.id}] * 1000}, token=world.token(settings, "agent")
    )
    # then: refused for both the count and the cost, nothing executed
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("data") is None
    limits = {error["extensions"]["limit"]: error["extensions"] for error in body["errors"]}
    assert limits["representations"]["actual"] == 1000
    assert limits["complexity"]["actual"] > 20000


@strawberry.type
class Bucket:
    day: int


@strawberry.type
class BucketQuery:
    """A feed of daily buckets, a year long, beside an ordinary list."""

    @strawberry.field(metadata={LIST_SIZE: 366})
    def backlog(self) -> list[Bucket]:
        return []

    @strawberry.field
    def recent(self) -> list[Bucket]:
        return []


def test_a_list_field_may_declare_its_length_for_the_estimate() -> None:
    # given
    schema = strawberry.Schema(BucketQuery)
    # when
    [(_, measured)] = measure(schema._schema, parse("{ backlog { day } recent { day } }"))
    # then
    assert measured.complexity == (1 + 366) + (1 + ASSUMED_LIST_SIZE)


async def test_named_and_inline_fragments_cost_the_same_as_the_fields_they_stand_for(
    limited: Limited, world: World, settings: Settings
) -> None:
    plain = "{ cases(first: 10) { edges { node { id tasks { id } } } } }"
    inline = "{ cases(first: 10) { edges { node { ... on Case { id tasks { id } } } } } }"
    named = """
    { cases(first: 10) { ...Page } }
    fragment Page on CaseConnection { edges { node { ...Row } } }
    fragment Row on Case { id tasks { id } }
    """
    async with limited(max_complexity=1) as client:
        # when
        costs = [
            limit_refusal(await client.post(query, token=world.token(settings, "agent")))["extensions"]["actual"]
            for query in (plain, inline, named)
        ]
    # then
    assert costs == [2 + 10 * (3 + ASSUMED_LIST_SIZE)] * 3


async def test_fragments_that_multiply_are_priced_without_being_expanded(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: F0 spreads F1 twice, F1 spreads F2 twice… 2^35 fields if expanded
    levels = 35
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    query = f"{{ ...F0 }} {fragments} fragment F{levels} on Query {{ __typename }}"
    # when
    response = await client.post(query, token=world.token(settings, "agent"))
    # then
    assert limit_refusal(response)["extensions"]["actual"] == 2**levels


async def test_a_field_skipped_by_a_directive_still_counts(limited: Limited, world: World, settings: Settings) -> None:
    # given: the estimate is of what the document may ask for, whatever its variables say
    query = "query Page($skip: Boolean!) { cases(first: 41) { edges { cursor @skip(if: $skip) } } }"
    async with limited(max_complexity=42) as client:
        # when
        response = await client.post(query, {"skip": True}, token=world.token(settings, "agent"))
    # then
    assert limit_refusal(response)["extensions"]["actual"] == 43


async def test_a_fragment_cycle_is_refused_by_validation_without_hanging(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    query = "{ me { ...A } } fragment A on User { id ...B } fragment B on User { name ...A }"
    # when
    response = await client.post(query, token=world.token(settings, "agent"))
    # then
    body = response.json()
    assert response.status_code == 200 and body.get("data") is None, body
    assert any("within itself" in error["message"] for error in body["errors"]), body


async def test_nested_introspection_lists_are_refused(client: GraphQLClient) -> None:
    # given: each level of fields { type { fields … } } multiplies the work by the schema's size
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    # when
    response = await client.post(query)
    # then
    error = limit_refusal(response)
    assert error["extensions"] == {"code": QUERY_LIMIT_EXCEEDED, "limit": "introspectionDepth", "max": 2}


# --- what a refusal looks like and does -------------------------------------------------------------


async def test_a_refusal_asked_as_graphql_response_json_is_a_400_without_data(
    limited: Limited, world: World, settings: Settings
) -> None:
    async with limited(max_complexity=1) as client:
        # when
        response = await client.http.post(
            "/graphql",
            json={"query": "{ me { id } }"},
            headers={"Authorization": f"Bearer {world.token(settings, 'agent')}", "Accept": GRAPHQL_RESPONSE_JSON},
        )
    # then
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["limit"] == "complexity"


async def test_a_mutation_over_the_default_complexity_does_not_run(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: 100 events, each with 100 events of its case: over 20,000 fields
    mutation = """
    mutation {
      createCase(input: {caseTypeCode: "POTHOLE", title: "Costly"}) {
        case { history(first: 100) { edges { node { case { history(first: 100) { edges { node { id } } } } } } } }
      }
    }
    """
    before = (await Case.all().count(), await CaseEvent.all().count())
    # when
    response = await client.post(mutation, token=world.token(settings, "requester"))
    # then
    error = limit_refusal(response)
    assert error["extensions"]["limit"] == "complexity" and error["extensions"]["actual"] > 20000
    assert (await Case.all().count(), await CaseEvent.all().count()) == before


async def test_a_subscription_over_the_limit_is_refused_before_it_starts() -> None:
    # given
    schema = build_schema(limits=QueryLimits(max_complexity=10))
    subscription = "subscription { caseEvents { id case { tasks { id } } } }"
    # when
    results = await schema.subscribe(subscription, context_value=Context())
    first = await anext(results)
    # then: caseEvents + id + case + tasks + ASSUMED_LIST_SIZE × id
    assert first.data is None and first.errors is not None
    [error] = first.errors
    assert error.path is None
    assert error.extensions == {
        "code": QUERY_LIMIT_EXCEEDED,
        "limit": "complexity",
        "max": 10,
        "actual": 4 + ASSUMED_LIST_SIZE,
    }


# --- page size --------------------------------------------------------------------------------------


async def test_first_above_the_page_size_limit_is_refused_and_the_cap_costs_as_the_cap(
    limited: Limited, world: World, settings: Settings
) -> None:
    # given
    for _ in range(6):
        await insert_case(world)
    query = "{ cases(first: %d) { totalCount edges { cursor } pageInfo { hasNextPage } } }"
    async with limited(max_page_size=5, max_complexity=10) as client:
        # when: 1 + totalCount + (1 + 5 cursors) + pageInfo + hasNextPage = 10
        data = await runs(client, query % 5, token=world.token(settings, "agent"))
        over = await client.execute(query % 1000, token=world.token(settings, "agent"))
    # then: the cap runs; above it is refused (issue 20), not cut short
    cases = data["cases"]
    assert (cases["totalCount"], len(cases["edges"]), cases["pageInfo"]["hasNextPage"]) == (6, 5, True)
    [error] = over["errors"]
    assert error["extensions"]["code"] == "VALIDATION_FAILED" and error["message"].startswith("first may be at most 5")


async def test_a_case_history_is_capped_at_the_configured_page_size(
    limited: Limited, world: World, settings: Settings
) -> None:
    # given: a case with its creation event and one more
    case = await insert_case(world)
    async with limited(max_page_size=1) as client:
        await runs(
            client,
            "mutation($input: UpdateCaseInput!) { updateCase(input: $input) { errors { code } } }",
            {"input": {"caseId": case.id, "description": "Deeper than it looked."}},
            token=world.token(settings, "requester"),
        )
        # when
        history = "query($id: ID!, $n: Int) { case(id: $id) { history(first: $n) { totalCount edges { cursor } } } }"
        data = await runs(client, history, {"id": case.id, "n": 1}, token=world.token(settings, "agent"))
        over = await client.execute(history, {"id": case.id, "n": 50}, token=world.token(settings, "agent"))
    # then: a page of the cap runs; a page over it is refused (issue 20), not cut short
    assert data["case"]["history"]["totalCount"] == 2
    assert len(data["case"]["history"]["edges"]) == 1
    assert over["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"


@pytest.mark.parametrize(
    "query",
    [
        "{ cases(first: -1) { totalCount } }",
        "query($id: ID!) { case(id: $id) { history(first: -1) { totalCount } } }",
    ],
)
async def test_a_negative_first_is_a_validation_error_not_a_server_error(
    client: GraphQLClient, world: World, settings: Settings, query: str
) -> None:
    # given
    case = await insert_case(world)
    # when
    response = await client.post(
        query, {"id": case.id} if "$id" in query else None, token=world.token(settings, "agent")
    )
    # then
    assert response.status_code == 200, response.text
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["VALIDATION_FAILED"]


# --- real clients pass the defaults -----------------------------------------------------------------


@pytest.mark.parametrize(
    "introspection",
    [
        get_introspection_query(),
        # GraphiQL asks for more: descriptions everywhere, deprecated arguments, repeatable directives.
        get_introspection_query(
            descriptions=True,
            specified_by_url=True,
            directive_is_repeatable=True,
            schema_description=True,
            input_value_deprecation=True,
            one_of=True,
        ),
    ],
    ids=["graphql-core", "graphiql"],
)
async def test_the_full_introspection_query_passes_the_default_limits(
    client: GraphQLClient, introspection: str
) -> None:
    # when
    body = await client.execute(introspection)
    # then
    assert not body.get("errors"), body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_a_dashboard_page_of_fifty_cases_passes_the_default_limits(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    for _ in range(3):
        await insert_case(world)
    query = """
    query Dashboard($first: Int) {
      cases(first: $first) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges {
          cursor
          node {
            id number title status stage priority
            assignedTo { id name }
            assignmentGroup { code name }
            tasks { id title state }
            version updatedAt
          }
        }
      }
    }
    """
    # when
    data = await runs(client, query, {"first": 50}, token=world.token(settings, "agent"))
    # then
    assert len(data["cases"]["edges"]) == 3


@pytest.mark.parametrize("field", ["myTasks", "notifications"])
async def test_a_lists_default_page_above_a_lowered_cap_runs_and_an_asked_one_is_refused(
    limited: Limited, world: World, settings: Settings, field: str
) -> None:
    # given: the cap set below the lists' default page (50)
    async with limited(max_page_size=10) as client:
        # when: one client leaves `first` out, another asks for 50
        default = await client.execute(f"{{ {field} {{ id }} }}", token=world.token(settings, "agent"))
        asked = await client.execute(f"{{ {field}(first: 50) {{ id }} }}", token=world.token(settings, "agent"))
    # then: not asking is never refused; asking over the cap is (issue 20)
    assert "errors" not in default and default["data"][field] == []
    [error] = asked["errors"]
    assert error["extensions"]["code"] == "VALIDATION_FAILED" and error["message"].startswith("first may be at most 10")
