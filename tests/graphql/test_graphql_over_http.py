"""GraphQL over HTTP: media types, status codes, methods and batching as the specification asks.

``application/graphql-response+json``: a response with ``data`` is 200, one refused before
execution (no ``data``) is 4xx. ``application/json`` (and no Accept header): 200 for every
well-formed request. Refusals of the HTTP request itself are GraphQL-shaped JSON.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from tortoise.context import TortoiseContext

from casegraph.app import Runtime, create_app
from casegraph.auth import TokenVerifier
from casegraph.graphql_http import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, negotiate
from casegraph.settings import Settings
from models import Case, CaseEvent
from tests.helpers import FakeClock, GraphQLClient, RecordingPublisher, World

NEW = {"Accept": GRAPHQL_RESPONSE_JSON}
LEGACY = {"Accept": APPLICATION_JSON}
ME = "query Me { me { id } }"
CREATE = """
mutation Create($input: CreateCaseInput!) {
  createCase(input: $input) { case { id } errors { code } }
}
"""


def create_input() -> dict[str, Any]:
    return {
        "input": {
            "caseTypeCode": "POTHOLE",
            "title": "Hole",
            "description": "Deep",
            "impact": 3,
            "urgency": 3,
            "channel": "PORTAL",
        }
    }


async def post(client: GraphQLClient, body: Any, headers: dict[str, str], token: str | None = None) -> httpx.Response:
    all_headers = {**headers, **({"Authorization": f"Bearer {token}"} if token else {})}
    return await client.http.post(
        "/graphql", content=json.dumps(body), headers={"Content-Type": "application/json", **all_headers}
    )


async def nothing_written() -> bool:
    return await Case.all().count() == 0 and await CaseEvent.all().count() == 0


# -- negotiation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, APPLICATION_JSON),
        ("", APPLICATION_JSON),
        ("application/json", APPLICATION_JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        ("application/json, application/graphql-response+json;q=0.5", APPLICATION_JSON),
        ("*/*", APPLICATION_JSON),
        ("application/*", APPLICATION_JSON),
        ("text/html", None),
        ("application/graphql-response+json;q=0", None),
        ("application/graphql-response+json;q=nonsense, application/json", APPLICATION_JSON),
    ],
)
def test_the_response_type_follows_the_accept_header(accept: str | None, chosen: str | None) -> None:
    assert negotiate(accept) == chosen


# -- application/graphql-response+json ------------------------------------------------------------


async def test_a_successful_query_is_200_with_the_new_media_type(client: GraphQLClient, world: World) -> None:
    response = await post(client, {"query": ME}, NEW, token=world.token(client.settings, "agent"))
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
    # (and Origin, from CORS: caches keep one answer per page origin too)
    assert "Accept" in {value.strip() for value in response.headers["vary"].split(",")}
    assert response.json()["data"]["me"]["id"]


@pytest.mark.parametrize(
    "document",
    ["query {", "query { noSuchField }", "query Q($n: Int!) { cases(first: $n) { totalCount } }"],
    ids=["syntax", "unknown-field", "missing-variable"],
)
async def test_a_document_that_cannot_run_is_400_without_data(
    client: GraphQLClient, world: World, document: str
) -> None:
    response = await post(client, {"query": document}, NEW, token=world.token(client.settings, "agent"))
    body = response.json()
    assert response.status_code == 400
    assert "data" not in body and body["errors"]


async def test_a_missing_or_bad_token_is_401(client: GraphQLClient, world: World) -> None:
    missing = await post(client, {"query": ME}, NEW)
    bad = await post(client, {"query": ME}, NEW, token="not-a-jwt")
    for response in (missing, bad):
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_field_error_during_execution_is_still_200_with_data(client: GraphQLClient, world: World) -> None:
    # An agent may not list deleted cases: the refusal happens while executing `cases`.
    document = "{ cases(filter: {includeDeleted: true}) { totalCount } }"
    response = await post(client, {"query": document}, NEW, token=world.token(client.settings, "agent"))
    body = response.json()
    assert response.status_code == 200
    assert "data" in body and body["errors"][0]["path"] == ["cases"]


async def test_refused_mutations_are_payload_errors_and_200(client: GraphQLClient, world: World) -> None:
    variables = create_input()
    variables["input"]["caseTypeCode"] = "NO_SUCH_TYPE"
    response = await post(
        client, {"query": CREATE, "variables": variables}, NEW, token=world.token(client.settings, "requester")
    )
    assert response.status_code == 200
    assert response.json()["data"]["createCase"]["errors"][0]["code"] == "VALIDATION_FAILED"


async def test_the_mutation_used_below_runs_when_sent_properly(client: GraphQLClient, world: World) -> None:
    # The 405/406 tests below send this very request and expect nothing written.
    response = await post(
        client, {"query": CREATE, "variables": create_input()}, NEW, token=world.token(client.settings, "requester")
    )
    assert response.status_code == 200
    assert response.json()["data"]["createCase"] == {
        "case": {"id": response.json()["data"]["createCase"]["case"]["id"]},
        "errors": [],
    }
    assert not await nothing_written()


# -- application/json (legacy) --------------------------------------------------------------------


@pytest.mark.parametrize("headers", [LEGACY, {}], ids=["accept-json", "no-accept"])
async def test_legacy_clients_get_200_for_every_well_formed_request(
    client: GraphQLClient, world: World, headers: dict[str, str]
) -> None:
    invalid = await post(
        client, {"query": "query { noSuchField }"}, headers, token=world.token(client.settings, "agent")
    )
    anonymous = await post(client, {"query": ME}, headers)
    for response in (invalid, anonymous):
        assert response.status_code == 200
        assert response.headers["content-type"] == f"{APPLICATION_JSON}; charset=utf-8"
        assert "data" not in response.json() and response.json()["errors"]


# -- the HTTP request itself ----------------------------------------------------------------------


async def test_an_unacceptable_accept_header_is_406_and_runs_nothing(client: GraphQLClient, world: World) -> None:
    response = await post(
        client,
        {"query": CREATE, "variables": create_input()},
        {"Accept": "text/html"},
        token=world.token(client.settings, "requester"),
    )
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"
    assert await nothing_written()


async def test_a_mutation_over_get_is_405_and_runs_nothing(client: GraphQLClient, world: World) -> None:
    params = {"query": CREATE, "variables": json.dumps(create_input())}
    response = await client.http.get(
        "/graphql",
        params=params,
        headers={**NEW, "Authorization": f"Bearer {world.token(client.settings, 'requester')}"},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert await nothing_written()


async def test_a_query_over_get_runs(client: GraphQLClient, world: World) -> None:
    response = await client.http.get(
        "/graphql",
        params={"query": ME},
        headers={**NEW, "Authorization": f"Bearer {world.token(client.settings, 'agent')}"},
    )
    assert response.status_code == 200
    assert response.json()["data"]["me"]["id"]


async def test_a_body_that_is_not_json_is_a_graphql_shaped_400(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json", **NEW}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
async def test_a_body_of_another_media_type_is_415(client: GraphQLClient, content_type: str) -> None:
    response = await client.http.post(
        "/graphql", content=json.dumps({"query": ME}), headers={"Content-Type": content_type}
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_a_body_with_a_charset_parameter_is_accepted(client: GraphQLClient, world: World) -> None:
    response = await client.http.post(
        "/graphql",
        content=json.dumps({"query": ME}),
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Authorization": f"Bearer {world.token(client.settings, 'agent')}",
        },
    )
    assert response.status_code == 200 and response.json()["data"]["me"]


# -- batching --------------------------------------------------------------------------------------


async def test_batches_are_refused_unless_configured(client: GraphQLClient, world: World) -> None:
    response = await post(client, [{"query": ME}, {"query": ME}], NEW, token=world.token(client.settings, "agent"))
    assert response.status_code == 400
    assert "Batching is not enabled" in response.json()["errors"][0]["message"]


@pytest.fixture
async def batching_client(
    db: TortoiseContext, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> AsyncIterator[GraphQLClient]:
    configured = replace(settings, batch_max_operations=2)
    runtime = Runtime(settings=configured, verifier=TokenVerifier(configured), clock=clock, publisher=publisher)
    app = create_app(configured, manage_resources=False, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield GraphQLClient(http, configured)


async def test_configured_batches_run_up_to_their_limit(batching_client: GraphQLClient, world: World) -> None:
    token = world.token(batching_client.settings, "agent")
    two = await post(batching_client, [{"query": ME}, {"query": "{ caseTypes { code } }"}], NEW, token=token)
    three = await post(batching_client, [{"query": ME}] * 3, NEW, token=token)
    assert two.status_code == 200
    assert [sorted(item["data"]) for item in two.json()] == [["me"], ["caseTypes"]]
    assert three.status_code == 400 and "Too many operations" in three.json()["errors"][0]["message"]


def test_batching_is_configured_from_the_environment() -> None:
    assert Settings.from_env({"CASEGRAPH_BATCH_MAX_OPERATIONS": "5"}).batch_max_operations == 5
    assert Settings.from_env({}).batch_max_operations == 0
    with pytest.raises(ValueError, match="CASEGRAPH_BATCH_MAX_OPERATIONS"):
        Settings.from_env({"CASEGRAPH_BATCH_MAX_OPERATIONS": "many"})
