"""What client libraries read besides data: error codes, the bearer challenge, page caps, caching.

- syntax errors carry ``GRAPHQL_PARSE_FAILED``, validation errors ``GRAPHQL_VALIDATION_FAILED``,
  variables that do not fit ``BAD_USER_INPUT`` (Apollo Server's names), over POST and GET;
  guards keep their own codes;
- a 401 carries ``WWW-Authenticate: Bearer``, with ``error="invalid_token"`` for a refused token;
- a page size over the cap is refused (``VALIDATION_FAILED`` naming the argument and the cap);
- GET answers carry an ``ETag`` and honour ``If-None-Match``; viewer-dependent answers are
  ``private, no-cache`` varying on Authorization and Cookie, errors and POST answers ``no-store``.

The WebSocket side of the codes is in tests/live/test_client_protocol_over_sockets.py.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx
import pytest
from tortoise.context import TortoiseContext

from casegraph.app import Runtime, create_app
from casegraph.auth import TokenVerifier
from casegraph.graphql_http import GRAPHQL_RESPONSE_JSON
from casegraph.persisted_queries.protocol import document_hash
from casegraph.settings import Settings
from tests.helpers import FakeClock, GraphQLClient, RecordingPublisher, World, insert_case

NEW = {"Accept": GRAPHQL_RESPONSE_JSON}
ME = "query Me { me { id name } }"
MY_CASES = "query Mine { cases { totalCount edges { node { title } } } }"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def get(client: GraphQLClient, params: dict[str, str], headers: dict[str, str]) -> httpx.Response:
    return await client.http.get("/graphql", params=params, headers=headers)


def only_error(response: httpx.Response) -> dict[str, Any]:
    [error] = response.json()["errors"]
    assert isinstance(error, dict)
    return error


# -- error codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("query {", "GRAPHQL_PARSE_FAILED"),
        ("{ me { id } } }", "GRAPHQL_PARSE_FAILED"),
        ("{ me { noSuchField } }", "GRAPHQL_VALIDATION_FAILED"),
        ("query Q { cases(first: $n) { totalCount } }", "GRAPHQL_VALIDATION_FAILED"),
        ("query A { me { id } } query A { me { name } }", "GRAPHQL_VALIDATION_FAILED"),
        ("query Q($n: Int!) { cases(first: $n) { totalCount } }", "BAD_USER_INPUT"),
    ],
    ids=["unclosed", "extra-brace", "unknown-field", "undeclared-variable", "duplicate-operation", "missing-variable"],
)
async def test_syntax_and_validation_errors_carry_apollos_codes(
    client: GraphQLClient, world: World, document: str, code: str, method: str
) -> None:
    # given
    headers = bearer(world.token(client.settings, "agent"))
    # when
    if method == "POST":
        response = await client.http.post("/graphql", json={"query": document}, headers=headers)
    else:
        response = await get(client, {"query": document}, headers)
    # then: every error of the answer has the code, and no data was produced
    body = response.json()
    assert "data" not in body
    assert body["errors"] and {error["extensions"]["code"] for error in body["errors"]} == {code}


async def test_guards_that_refuse_before_validation_keep_their_own_codes(client: GraphQLClient) -> None:
    # when: no token at all (the authentication gate) and a token-limit refusal (a syntax error underneath)
    anonymous = await client.post(ME)
    too_long = await client.post("{ " + "me { id } " * 3000 + "}", token=client.token("dana"))
    # then
    assert only_error(anonymous)["extensions"]["code"] == "UNAUTHENTICATED"
    assert only_error(too_long)["extensions"]["code"] == "QUERY_LIMIT_EXCEEDED"


async def test_an_execution_error_keeps_its_domain_code(client: GraphQLClient, world: World) -> None:
    # when: an agent may not list deleted cases (refused while executing, with a path)
    response = await client.post(
        "{ cases(filter: {includeDeleted: true}) { totalCount } }", token=world.token(client.settings, "agent")
    )
    # then
    assert only_error(response)["extensions"]["code"] == "VALIDATION_FAILED"


# -- 401 ------------------------------------------------------------------------------------------


async def test_a_401_without_a_token_challenges_for_a_bearer_token(client: GraphQLClient) -> None:
    # when
    response = await client.http.post("/graphql", json={"query": ME}, headers=NEW)
    # then
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("token", ["not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"])
async def test_a_401_for_a_refused_token_says_invalid_token(client: GraphQLClient, token: str) -> None:
    # when
    response = await client.http.post("/graphql", json={"query": ME}, headers={**NEW, **bearer(token)})
    # then
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert only_error(response)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_upload_without_a_token_is_a_401_with_the_challenge(client: GraphQLClient) -> None:
    # when: a multipart request without Authorization is refused unread
    response = await client.http.post("/graphql", files={"operations": (None, "{}"), "map": (None, "{}")})
    # then
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_an_answer_that_is_not_a_401_has_no_challenge(client: GraphQLClient, world: World) -> None:
    response = await client.http.post(
        "/graphql", json={"query": ME}, headers={**NEW, **bearer(world.token(client.settings, "agent"))}
    )
    assert response.status_code == 200
    assert "www-authenticate" not in response.headers


# -- page sizes -----------------------------------------------------------------------------------

OVER_THE_CAP = [
    ("{ cases(first: 101) { totalCount } }", "first", 100),
    ("{ myTasks(first: 500) { id } }", "first", 100),
    ("{ notifications(first: 500) { id } }", "first", 100),
    ("{ articles(first: 101) { totalCount } }", "first", 100),
    ('{ suggestedArticles(text: "pothole", first: 11) { id } }', "first", 10),
]


@pytest.mark.parametrize(("document", "argument", "cap"), OVER_THE_CAP)
async def test_a_page_size_over_the_cap_is_refused_naming_the_argument_and_the_cap(
    client: GraphQLClient, world: World, document: str, argument: str, cap: int
) -> None:
    # when
    response = await client.post(document, token=world.token(client.settings, "agent"))
    # then: refused, not cut short
    error = only_error(response)
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert argument in error["message"] and str(cap) in error["message"]


async def test_a_history_page_over_the_cap_is_refused(client: GraphQLClient, world: World) -> None:
    # given
    case = await insert_case(world, title="Hole")
    # when
    response = await client.post(
        "query H($id: ID!) { case(id: $id) { history(first: 101) { totalCount } } }",
        {"id": case.id},
        token=world.token(client.settings, "agent"),
    )
    # then
    error = only_error(response)
    assert (error["extensions"]["code"], error["path"]) == ("VALIDATION_FAILED", ["case", "history"])
    assert "first may be at most 100" in error["message"]


async def test_a_page_size_at_the_cap_runs(client: GraphQLClient, world: World) -> None:
    # given
    await insert_case(world, title="Hole")
    # when
    data = await client.data("{ cases(first: 100) { totalCount } }", token=world.token(client.settings, "manager"))
    # then
    assert data["cases"]["totalCount"] == 1


# -- caching --------------------------------------------------------------------------------------


async def test_a_get_answer_for_a_viewer_is_private_and_tagged(client: GraphQLClient, world: World) -> None:
    # when
    response = await get(client, {"query": ME}, bearer(world.token(client.settings, "agent")))
    # then
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-cache"
    vary = {value.strip() for value in response.headers["vary"].split(",")}
    assert {"Accept", "Authorization", "Cookie"} <= vary
    assert response.headers["etag"].startswith('"') and len(response.headers["etag"]) > 10


async def test_a_matching_if_none_match_is_a_304_without_a_body(client: GraphQLClient, world: World) -> None:
    # given
    headers = bearer(world.token(client.settings, "agent"))
    first = await get(client, {"query": ME}, headers)
    # when
    again = await get(client, {"query": ME}, {**headers, "If-None-Match": first.headers["etag"]})
    # then
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "private, no-cache"


async def test_a_changed_answer_has_a_new_tag_and_is_sent_in_full(client: GraphQLClient, world: World) -> None:
    # given: the manager's list, tagged
    headers = bearer(world.token(client.settings, "manager"))
    before = await get(client, {"query": MY_CASES}, headers)
    # when: a case is filed, and the client revalidates its copy
    await insert_case(world, title="New hole")
    after = await get(client, {"query": MY_CASES}, {**headers, "If-None-Match": before.headers["etag"]})
    # then
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert after.json()["data"]["cases"]["totalCount"] == before.json()["data"]["cases"]["totalCount"] + 1


async def test_one_viewers_tag_does_not_answer_another_viewer(client: GraphQLClient, world: World) -> None:
    # given: dana's answer and its tag
    dana = await get(client, {"query": ME}, bearer(world.token(client.settings, "agent")))
    # when: eli sends dana's tag
    eli = await get(
        client,
        {"query": ME},
        {**bearer(world.token(client.settings, "other_agent")), "If-None-Match": dana.headers["etag"]},
    )
    # then: eli gets his own answer
    assert eli.status_code == 200
    assert eli.json()["data"]["me"]["id"] == "eli"


async def test_a_persisted_query_over_get_is_tagged_and_revalidated(client: GraphQLClient, world: World) -> None:
    # given: the text taught once (APQ), then the hash alone over GET, as a CDN-friendly link sends it
    headers = bearer(world.token(client.settings, "agent"))
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": document_hash(ME)}})
    await client.http.post("/graphql", json={"query": ME, "extensions": json.loads(extensions)}, headers=headers)
    first = await get(client, {"extensions": extensions}, headers)
    # when
    again = await get(client, {"extensions": extensions}, {**headers, "If-None-Match": first.headers["etag"]})
    # then
    assert first.json()["data"]["me"]["id"] == "dana"
    assert (first.headers["cache-control"], again.status_code) == ("private, no-cache", 304)


async def test_an_anonymous_answer_the_same_for_everyone_is_public(client: GraphQLClient) -> None:
    # when: introspection, which needs no token in development
    response = await get(client, {"query": "{ __schema { queryType { name } } }"}, {})
    # then
    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("public, max-age=")
    assert "Authorization" in response.headers["vary"]
    assert response.headers["etag"]


@pytest.mark.parametrize(
    ("query", "headers"),
    [(ME, {}), ("{ me { noSuchField } }", None)],
    ids=["unauthenticated", "invalid"],
)
async def test_get_answers_with_errors_are_not_stored(
    client: GraphQLClient, world: World, query: str, headers: dict[str, str] | None
) -> None:
    sent = headers if headers is not None else bearer(world.token(client.settings, "agent"))
    response = await get(client, {"query": query}, sent)
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers


async def test_post_answers_are_not_stored(client: GraphQLClient, world: World) -> None:
    response = await client.post(ME, token=world.token(client.settings, "agent"))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers


async def test_cross_origin_scripts_may_revalidate_and_read_the_tag_and_the_challenge(
    db: TortoiseContext, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: the dashboard served from another origin
    origin = "https://desk.example.gov"
    configured = dataclasses.replace(settings, allowed_origins=(origin,))
    runtime = Runtime(settings=configured, verifier=TokenVerifier(configured), clock=clock, publisher=publisher)
    app = create_app(configured, manage_resources=False, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        # when: a preflight for a GET with If-None-Match, then the GET itself
        preflight = await http.options(
            "/graphql",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization, if-none-match",
            },
        )
        answer = await http.get("/graphql", params={"query": "{ __typename }"}, headers={"Origin": origin})
    # then
    assert preflight.status_code == 200
    exposed = {name.strip().lower() for name in answer.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "www-authenticate"} <= exposed
