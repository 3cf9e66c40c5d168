"""``me`` is the same ``User`` as every other path: one record in a client's normalized cache.

Apollo Client, urql's graphcache and Relay key records by ``__typename`` and ``id``; with a
``Me`` type apart, ``Me:dana`` and ``User:dana`` were two records and a change made through one
left the other stale. The viewer's own field (``groups``) is a ``User`` field shown only to
its owner. On the compiled path and the general one (``CASEGRAPH_COMPILED_QUERIES``).
"""

from __future__ import annotations

from typing import Any

from tests.helpers import GraphQLClient, World, insert_case

SET_AVAILABILITY = """
mutation Away($input: SetAvailabilityInput!) {
  setAvailability(input: $input) { user { __typename id available } errors { code } }
}
"""
# Planned by the compiled path (only `me` and `cases`), and not (with `caseTypes`).
ME_PLANNED = "{ me { __typename id name roles email available skills groups { code } } }"
ME_GENERAL = "{ me { __typename id name roles email available skills groups { code } } caseTypes { code } }"
GROUP_MEMBERS = "{ assignmentGroups { code members { user { __typename id email groups { code } } } } }"


def cache_key(record: dict[str, Any]) -> str:
    """Apollo Client's default dataIdFromObject."""
    return f"{record['__typename']}:{record['id']}"


async def test_me_is_a_user_on_both_paths(client: GraphQLClient, world: World) -> None:
    token = world.token(client.settings, "agent")
    # when
    planned = (await client.data(ME_PLANNED, token=token))["me"]
    general = (await client.data(ME_GENERAL, token=token))["me"]
    # then: the same record, the viewer's own fields all shown
    assert planned == general
    assert cache_key(planned) == "User:dana"
    assert planned["email"] == "dana@example.org" and planned["available"] is True
    assert planned["groups"] == [{"code": "ROADS"}]


async def test_a_change_through_user_is_a_change_of_the_same_record_me_names(
    client: GraphQLClient, world: World
) -> None:
    # given
    token = world.token(client.settings, "agent")
    before = (await client.data(ME_PLANNED, token=token))["me"]
    # when: availability changed through the mutation, which answers with a User
    changed = (await client.data(SET_AVAILABILITY, {"input": {"available": False}}, token=token))["setAvailability"]
    after = (await client.data(ME_PLANNED, token=token))["me"]
    # then: one cache key for both, and me reads the change
    assert changed["errors"] == []
    assert cache_key(changed["user"]) == cache_key(before) == cache_key(after)
    assert (before["available"], changed["user"]["available"], after["available"]) == (True, False, False)


async def test_groups_are_shown_to_their_owner_only(client: GraphQLClient, world: World) -> None:
    # when: the manager reads ROADS's members (dana, eli and maria herself)
    data = await client.data(GROUP_MEMBERS, token=world.token(client.settings, "manager"))
    # then: her own groups are shown, nobody else's; staff still see the others' e-mail
    [roads] = [group for group in data["assignmentGroups"] if group["code"] == "ROADS"]
    users = {member["user"]["id"]: member["user"] for member in roads["members"]}
    assert users["maria"]["groups"] == [{"code": "ROADS"}]
    assert users["dana"]["groups"] is None and users["eli"]["groups"] is None
    assert users["dana"]["email"] == "dana@example.org"
    assert {user["__typename"] for user in users.values()} == {"User"}


async def test_a_constituent_sees_neither_a_staff_members_groups_nor_their_e_mail(
    client: GraphQLClient, world: World
) -> None:
    # given: a case of alice's, assigned to dana
    case = await insert_case(world, title="Hole")
    # when
    data = await client.data(
        "query C($id: ID!) { case(id: $id) { assignedTo { __typename id email groups { code } } } }",
        {"id": case.id},
        token=world.token(client.settings, "requester"),
    )
    # then
    assert data["case"]["assignedTo"] == {"__typename": "User", "id": "dana", "email": None, "groups": None}
