"""Intake by staff over GraphQL (issue 19): an agent registers a caller who never signed in,
finds them again, files their case by phone, and the case's requester shows their contact
details to staff — and to nobody else."""

from __future__ import annotations

from typing import Any

from casegraph.settings import Settings
from models import User
from tests.helpers import GraphQLClient, World

REGISTER = """
mutation Register($input: RegisterConstituentInput!) {
  registerConstituent(input: $input) { existing user { id name email phone roles } errors { code field message } }
}
"""
SEARCH = "query Search($search: String!) { constituents(search: $search) { id name phone } }"
CREATE_CASE = """
mutation Create($input: CreateCaseInput!) {
  createCase(input: $input) { case { id channel requester { id } } errors { code field } }
}
"""
REQUESTER = """
query Requester($id: ID!) {
  case(id: $id) { requester { id name email phone preferredLanguage } }
}
"""
CALLER = {"name": "Rosa Díaz", "email": "Rosa@Example.org", "phone": "+1 555 010 2030"}


async def register(client: GraphQLClient, token: str, **values: Any) -> dict[str, Any]:
    data = await client.data(REGISTER, {"input": values}, token=token)
    payload: dict[str, Any] = data["registerConstituent"]
    return payload


async def test_an_agent_registers_a_new_caller_and_a_second_call_finds_the_same_person(
    client: GraphQLClient, settings: Settings, world: World
) -> None:
    agent = world.token(settings, "agent")
    # when
    first = await register(client, agent, **CALLER)
    again = await register(client, agent, name="Rosa", phone="1 (555) 010-2030")
    # then
    assert first["errors"] == [] and first["existing"] is False
    assert first["user"] == {
        "id": first["user"]["id"],
        "name": "Rosa Díaz",
        "email": "rosa@example.org",
        "phone": "+1 555 010 2030",
        "roles": ["CONSTITUENT"],
    }
    assert again["existing"] is True and again["user"]["id"] == first["user"]["id"]
    found = await client.data(SEARCH, {"search": "rosa d"}, token=agent)
    assert found["constituents"] == [{"id": first["user"]["id"], "name": "Rosa Díaz", "phone": "+1 555 010 2030"}]


async def test_bad_input_is_refused_per_field_and_writes_nothing(
    client: GraphQLClient, settings: Settings, world: World
) -> None:
    agent = world.token(settings, "agent")
    users = await User.all().count()
    # when
    refusals = [
        await register(client, agent, name=" ", email="a@example.org"),
        await register(client, agent, name="Ana", email="no address"),
        await register(client, agent, name="Ana"),
    ]
    # then
    assert [(r["user"], [(e["code"], e["field"]) for e in r["errors"]]) for r in refusals] == [
        (None, [("VALIDATION_FAILED", "name")]),
        (None, [("VALIDATION_FAILED", "email")]),
        (None, [("VALIDATION_FAILED", "email")]),
    ]
    assert await User.all().count() == users


async def test_a_constituent_may_neither_register_nor_search_and_learns_nothing(
    client: GraphQLClient, settings: Settings, world: World
) -> None:
    constituent = world.token(settings, "requester")
    users = await User.all().count()
    # when: even an invalid registration is refused for the permission, not the input
    refused = await register(client, constituent, name=" ")
    searched = await client.execute(SEARCH, {"search": "bob"}, token=constituent)
    # then
    assert refused["user"] is None and [e["code"] for e in refused["errors"]] == ["PERMISSION_DENIED"]
    assert searched["data"] is None
    assert [e["extensions"]["code"] for e in searched["errors"]] == ["PERMISSION_DENIED"]
    assert await User.all().count() == users


async def test_the_case_filed_by_phone_shows_the_callers_details_to_staff_and_not_to_others(
    client: GraphQLClient, settings: Settings, world: World
) -> None:
    agent = world.token(settings, "agent")
    caller = (await register(client, agent, **CALLER))["user"]
    # when
    created = await client.data(
        CREATE_CASE,
        {
            "input": {
                "caseTypeCode": "POTHOLE",
                "title": "Pothole on Elm St",
                "description": "Deep hole by number 12",
                "channel": "PHONE",
                "requesterId": caller["id"],
            }
        },
        token=agent,
    )
    case = created["createCase"]["case"]
    # then
    assert created["createCase"]["errors"] == []
    assert (case["channel"], case["requester"]["id"]) == ("PHONE", caller["id"])
    seen_by_staff = await client.data(REQUESTER, {"id": case["id"]}, token=agent)
    assert seen_by_staff["case"]["requester"] == {
        "id": caller["id"],
        "name": "Rosa Díaz",
        "email": "rosa@example.org",
        "phone": "+1 555 010 2030",
        "preferredLanguage": "en",
    }
    other = await client.execute(REQUESTER, {"id": case["id"]}, token=world.token(settings, "other_constituent"))
    assert other["data"]["case"] is None
