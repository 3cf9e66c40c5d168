"""Federation entities (issue 7): ``_entities`` resolves Case, User, CaseType and AssignmentGroup
by their keys through the same visibility as every other query (lifecycle.md *Roles*), batched
per request; ``_service { sdl }`` serves the committed SDL to a gateway holding any valid token,
also in production where introspection is off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise.context import TortoiseContext

from casegraph.app import create_app
from casegraph.domain.enums import Role
from casegraph.settings import RateLimits, Settings
from models import Case
from resolvers.entities import ENTITY_KEYS
from tests.helpers import GraphQLClient, World, counted_statements, insert_case

SDL_PATH = Path(__file__).resolve().parents[2] / "schema.graphql"
PRODUCTION_SECRET = "a-real-production-secret-from-the-vault-0123456789"

ENTITIES_QUERY = """
query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Case { id number status }
    ... on User { id userName: name email }
    ... on CaseType { code name assignmentGroup { code } }
    ... on AssignmentGroup { code name members { user { id } } }
  }
}
"""
# Only what the lookups themselves load: one statement per entity type, whatever the count.
KEYS_QUERY = """
query Keys($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Case { id } ... on User { id } ... on CaseType { code } ... on AssignmentGroup { code }
  }
}
"""


def case_ref(case_id: str) -> dict[str, str]:
    return {"__typename": "Case", "id": case_id}


def user_ref(user_id: str) -> dict[str, str]:
    return {"__typename": "User", "id": user_id}


async def entities(
    client: GraphQLClient, token: str, representations: list[dict[str, str]], query: str = ENTITIES_QUERY
) -> list[Any]:
    data = await client.data(query, {"representations": representations}, token=token)
    found: list[Any] = data["_entities"]
    return found


def token_of(client: GraphQLClient, world: World, who: str) -> str:
    """World people by role name, and partner service accounts as ``partner:<AGENCY>``."""
    if who.startswith("partner:"):
        agency = who.split(":", 1)[1] or None
        return client.token(f"svc-{(agency or 'none').lower()}", Role.PARTNER, agency=agency)
    person = world.people[who]
    return client.token(person.sub, *person.roles, name=person.name)


@pytest.fixture
async def two_cases(world: World) -> dict[str, str]:
    """ROADS: alice's pothole assigned to dana. BENEFITS: bob's payment case, referred to PARKS."""
    roads = await insert_case(world, assigned_to="agent")
    referred = await insert_case(
        world, case_type="PAYMENT", requester="other_constituent", assigned_to="outsider_agent"
    )
    await Case.filter(id=referred.id).update(referred_agency="PARKS")
    return {"roads": roads.id, "referred": referred.id}


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("requester", {"roads"}),
        ("other_constituent", {"referred"}),
        ("agent", {"roads"}),
        ("outsider_agent", {"referred"}),
        ("admin", {"roads", "referred"}),
        ("partner:PARKS", {"referred"}),
        ("partner:WATER", set()),
        ("partner:", set()),
    ],
)
async def test_a_case_entity_resolves_only_for_viewers_who_may_see_the_case(
    client: GraphQLClient, world: World, two_cases: dict[str, str], who: str, sees: set[str]
) -> None:
    names = ["roads", "referred"]
    found = await entities(client, token_of(client, world, who), [case_ref(two_cases[name]) for name in names])
    assert {name for name, entity in zip(names, found, strict=True) if entity is not None} == sees
    for name, entity in zip(names, found, strict=True):
        if entity is not None:
            assert entity["__typename"] == "Case" and entity["id"] == two_cases[name]


async def test_unknown_deleted_and_otherwise_spelled_case_keys_resolve_to_null(
    client: GraphQLClient, world: World
) -> None:
    deleted = await insert_case(world, deleted=True)
    visible = await insert_case(world)
    found = await entities(
        client,
        token_of(client, world, "admin"),
        [
            case_ref(deleted.id),
            case_ref("00000000-0000-4000-8000-000000000000"),
            case_ref("not-a-uuid"),
            case_ref(visible.id.upper()),
        ],
    )
    assert found == [None, None, None, None]


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("agent", {"requester", "other_constituent", "agent"}),
        ("field_agent", {"requester", "other_constituent", "agent"}),
        ("requester", {"requester"}),
        ("other_constituent", {"other_constituent"}),
    ],
)
async def test_a_user_entity_resolves_for_staff_and_for_the_user_themselves(
    client: GraphQLClient, world: World, who: str, sees: set[str]
) -> None:
    names = ["requester", "other_constituent", "agent"]
    found = await entities(client, token_of(client, world, who), [user_ref(world.sub(name)) for name in names])
    assert {name for name, entity in zip(names, found, strict=True) if entity is not None} == sees


async def test_a_partner_service_account_resolves_itself_and_no_other_user(client: GraphQLClient, world: World) -> None:
    token = token_of(client, world, "partner:PARKS")
    found = await entities(client, token, [user_ref("svc-parks"), user_ref(world.sub("requester"))])
    assert found == [{"__typename": "User", "id": "svc-parks", "userName": "Svc-Parks", "email": None}, None]


@pytest.mark.parametrize("who", ["requester", "agent", "partner:PARKS"])
async def test_case_types_and_groups_resolve_by_code_for_any_authenticated_viewer(
    client: GraphQLClient, world: World, who: str
) -> None:
    found = await entities(
        client,
        token_of(client, world, who),
        [
            {"__typename": "CaseType", "code": "POTHOLE"},
            {"__typename": "CaseType", "code": "NO_SUCH_TYPE"},
            {"__typename": "AssignmentGroup", "code": "ROADS"},
            {"__typename": "AssignmentGroup", "code": "NO_SUCH_GROUP"},
        ],
    )
    case_type, missing_type, group, missing_group = found
    assert case_type == {
        "__typename": "CaseType",
        "code": "POTHOLE",
        "name": "Pothole",
        "assignmentGroup": {"code": "ROADS"},
    }
    assert missing_type is None and missing_group is None
    assert group["code"] == "ROADS" and group["name"] == "Roads"
    # Members stay staff-only, whichever way the group was reached.
    members = {member["user"]["id"] for member in group["members"]}
    assert members == ({"dana", "eli", "maria"} if who == "agent" else set())


async def test_entities_need_a_valid_token(client: GraphQLClient, world: World, two_cases: dict[str, str]) -> None:
    body = await client.execute(ENTITIES_QUERY, {"representations": [case_ref(two_cases["roads"])]})
    assert body.get("data") is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]


async def test_many_representations_cost_the_same_statements_as_one_per_entity_type(
    client: GraphQLClient, world: World
) -> None:
    cases = [(await insert_case(world)).id for _ in range(25)]
    users = [world.sub(who) for who in world.people]
    token = token_of(client, world, "agent")
    await entities(client, token, [case_ref(cases[0])])  # provisioning and caches settle first

    def mixed(case_ids: list[str], user_ids: list[str]) -> list[dict[str, str]]:
        return [
            *(case_ref(case_id) for case_id in case_ids),
            *(user_ref(user_id) for user_id in user_ids),
            {"__typename": "CaseType", "code": "POTHOLE"},
            {"__typename": "AssignmentGroup", "code": "ROADS"},
        ]

    with counted_statements() as few:
        found_few = await entities(client, token, mixed(cases[:1], users[:1]), KEYS_QUERY)
    with counted_statements() as many:
        found_many = await entities(client, token, mixed(cases * 4, users), KEYS_QUERY)
    assert all(entity is not None for entity in found_few) and len(found_few) == 4
    assert all(entity is not None for entity in found_many) and len(found_many) == 100 + len(users) + 2
    assert len(many) == len(few), "\n".join(many)


async def test_the_gateway_reads_the_committed_sdl_through_service_with_any_valid_token(
    client: GraphQLClient, world: World
) -> None:
    data = await client.data("query { _service { sdl } }", token=token_of(client, world, "partner:PARKS"))
    sdl: str = data["_service"]["sdl"]
    assert sdl.strip() == SDL_PATH.read_text(encoding="utf-8").strip()
    for entity, key in ENTITY_KEYS.items():
        assert f'type {entity} @key(fields: "{key}")' in sdl
    assert f"union _Entity = {' | '.join(sorted(ENTITY_KEYS))}" in sdl
    anonymous = await client.execute("query { _service { sdl } }")
    assert anonymous.get("data") is None and anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.fixture
async def production_client(db: TortoiseContext) -> AsyncIterator[GraphQLClient]:
    settings = Settings(env="production", jwt_secret=PRODUCTION_SECRET, metrics_token="m", rate_limits=RateLimits.off())
    app = create_app(settings, manage_resources=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield GraphQLClient(http, settings)


async def test_in_production_introspection_is_off_but_the_gateway_still_reads_the_sdl(
    production_client: GraphQLClient,
) -> None:
    token = production_client.token("gateway", Role.PARTNER, agency="PARKS")
    data = await production_client.data("query { _service { sdl } }", token=token)
    assert 'type Case @key(fields: "id")' in data["_service"]["sdl"]
    refused = await production_client.execute("query { __schema { queryType { name } } }", token=token)
    assert refused.get("data") is None and "introspection" in refused["errors"][0]["message"].lower()


@pytest.mark.parametrize(
    "representation",
    [
        {"__typename": "NoSuchType", "id": "x"},
        {"__typename": "CaseEvent", "id": "1"},
        {"id": "no-typename"},
        {"__typename": "Case"},
        {"__typename": "Case", "id": "x", "unexpected": 1},
        "not-an-object",
    ],
)
async def test_a_malformed_representation_is_a_refusal_not_a_crash(
    client: GraphQLClient, world: World, representation: Any
) -> None:
    case = await insert_case(world)
    body = await client.execute(
        KEYS_QUERY, {"representations": [case_ref(case.id), representation]}, token=token_of(client, world, "agent")
    )
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION_FAILED", error
    assert error["path"] == ["_entities"]


HISTORY_ENTITIES_QUERY = """
query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Case { history { edges { node { action details } } } } }
}
"""
UPDATE_CASE_MUTATION = """
mutation Update($input: UpdateCaseInput!) { updateCase(input: $input) { errors { code } } }
"""


async def test_a_partner_reads_only_the_public_part_of_a_referred_cases_event_details(
    client: GraphQLClient, world: World, two_cases: dict[str, str]
) -> None:
    # given: grace (BENEFITS) notes internally on the case referred to PARKS, naming oscar
    updated = await client.data(
        UPDATE_CASE_MUTATION,
        {"input": {"caseId": two_cases["referred"], "workNote": "@oscar budget code 7"}},
        token=token_of(client, world, "outsider_agent"),
    )
    assert updated["updateCase"]["errors"] == []
    # when: the partner's gateway and grace read the case's history through _entities
    [partner] = await entities(
        client, token_of(client, world, "partner:PARKS"), [case_ref(two_cases["referred"])], HISTORY_ENTITIES_QUERY
    )
    [staff] = await entities(
        client, token_of(client, world, "outsider_agent"), [case_ref(two_cases["referred"])], HISTORY_ENTITIES_QUERY
    )
    # then
    partner_update = partner["history"]["edges"][-1]["node"]
    staff_update = staff["history"]["edges"][-1]["node"]
    assert partner_update["action"] == staff_update["action"] == "UPDATE"
    assert partner_update["details"] == {"changed": [], "comment": False}
    assert staff_update["details"]["workNote"] is True and staff_update["details"]["mentions"] == ["oscar"]
