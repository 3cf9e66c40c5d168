"""Automatic routing over GraphQL: fairness, ties, availability, skills, and the events it records."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from casegraph.domain.enums import Role
from casegraph.services.users import Claims, provision
from casegraph.settings import Settings
from tests.helpers import FakeClock, GraphQLClient, World

CREATE_CASE_MUTATION = """
mutation Create($input: CreateCaseInput!) {
  createCase(input: $input) { case { id status version assignedTo { id } } event { type } errors { code field } }
}
"""
SUBMIT_CASE_MUTATION = """
mutation Submit($input: SubmitCaseInput!) {
  submitCase(input: $input) { case { status assignedTo { id } } errors { code } }
}
"""
UPDATE_CASE_TYPE_MUTATION = """
mutation Update($input: UpdateCaseTypeInput!) {
  updateCaseType(input: $input) { caseType { code autoAssign skills } errors { code field } }
}
"""
SET_AVAILABILITY_MUTATION = """
mutation Away($input: SetAvailabilityInput!) {
  setAvailability(input: $input) { user { id available } errors { code } }
}
"""
SET_AGENT_SKILLS_MUTATION = """
mutation Skills($input: SetAgentSkillsInput!) {
  setAgentSkills(input: $input) { user { id skills } errors { code field } }
}
"""
HISTORY_QUERY = """
query History($id: ID!) {
  case(id: $id) { history { edges { node { action type version actor { id } details } } } }
}
"""
ACCEPT_CASE_MUTATION = (
    "mutation Accept($input: AcceptCaseInput!) { acceptCase(input: $input) { case { status } errors { code } } }"
)


async def auto_assign(client: GraphQLClient, admin: str, skills: list[str] | None = None) -> None:
    data = await client.data(
        UPDATE_CASE_TYPE_MUTATION,
        {"input": {"code": "POTHOLE", "autoAssign": True, "skills": skills or []}},
        token=admin,
    )
    assert data["updateCaseType"]["errors"] == []


async def add_agent(world: World, clock: FakeClock, sub: str) -> None:
    """A third agent of ROADS (routing needs the AGENT role, which comes from the agent's token)."""
    from casegraph.services import admin

    await provision(claims=Claims(sub=sub, roles=frozenset({Role.AGENT}), name=sub), now=clock())
    await admin.add_group_member(
        actor=world.actor("admin"), group_code="ROADS", user_id=sub, is_manager=False, now=clock()
    )


async def file(client: GraphQLClient, token: str, **extra: object) -> dict[str, object]:
    data = await client.data(
        CREATE_CASE_MUTATION, {"input": {"caseTypeCode": "POTHOLE", "title": "Hole", **extra}}, token=token
    )
    payload: dict[str, object] = data["createCase"]
    assert payload["errors"] == []
    return payload


async def test_routing_spreads_hundreds_of_submissions_evenly_over_the_groups_agents(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock
) -> None:
    # given: three agents in ROADS (the manager is not routed to), auto-assign on
    await add_agent(world, clock, "gus")
    await auto_assign(client, world.token(settings, "admin"))
    alice = world.token(settings, "requester")
    # when
    assignees = []
    for _ in range(300):
        case = (await file(client, alice))["case"]
        assert isinstance(case, dict)
        assignees.append(case["assignedTo"]["id"])
    # then: every case routed, and no agent more than one ahead of another at any point
    counts = Counter(assignees)
    assert set(counts) == {"dana", "eli", "gus"}
    assert max(counts.values()) - min(counts.values()) <= 1
    running: Counter[str] = Counter()
    for assignee in assignees:
        running[assignee] += 1
        assert max(running.values()) - min(running[a] for a in ("dana", "eli", "gus")) <= 1


async def test_a_routed_assignment_is_its_own_system_event_and_the_agent_then_accepts(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    await auto_assign(client, world.token(settings, "admin"))
    # when
    payload = await file(client, world.token(settings, "requester"))
    case = payload["case"]
    assert isinstance(case, dict)
    history = await client.data(HISTORY_QUERY, {"id": case["id"]}, token=world.token(settings, "manager"))
    agent = case["assignedTo"]["id"]
    accepted = await client.data(
        ACCEPT_CASE_MUTATION,
        {"input": {"caseId": case["id"]}},
        token=world.token(settings, "agent" if agent == "dana" else "other_agent"),
    )
    # then: the creation is version 1, routing is version 2 by no one, in NEW until accepted
    nodes = [edge["node"] for edge in history["case"]["history"]["edges"]]
    assert [(n["action"], n["type"], n["version"]) for n in nodes] == [
        ("CREATE", "CASE_CREATED", 1),
        ("ASSIGN", "CASE_UPDATED", 2),
    ]
    assert nodes[1]["actor"] is None and nodes[1]["details"]["routed"] is True
    assert case["status"] == "NEW" and case["version"] == 2
    assert accepted["acceptCase"] == {"case": {"status": "OPEN"}, "errors": []}


async def test_ties_go_to_the_agent_idle_longest(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock
) -> None:
    # given: equal (zero) loads; dana was assigned something a while ago, eli never
    await auto_assign(client, world.token(settings, "admin"))
    first = (await file(client, world.token(settings, "requester")))["case"]
    clock.advance(timedelta(hours=1))
    # when
    second = (await file(client, world.token(settings, "requester")))["case"]
    # then: never-assigned first, then the other (loads are now 1 and 0)
    assert isinstance(first, dict) and isinstance(second, dict)
    assert {first["assignedTo"]["id"], second["assignedTo"]["id"]} == {"dana", "eli"}


async def test_unavailable_agents_are_skipped_and_none_eligible_leaves_the_case_unassigned(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: eli marks himself away
    await auto_assign(client, world.token(settings, "admin"))
    away = await client.data(
        SET_AVAILABILITY_MUTATION, {"input": {"available": False}}, token=world.token(settings, "other_agent")
    )
    assert away["setAvailability"] == {"user": {"id": "eli", "available": False}, "errors": []}
    # when
    routed = [(await file(client, world.token(settings, "requester")))["case"] for _ in range(3)]
    # then
    assert all(isinstance(c, dict) and c["assignedTo"] == {"id": "dana"} for c in routed)
    # and when dana is away too (set by her manager), cases wait unassigned, with no routing event
    await client.data(
        SET_AVAILABILITY_MUTATION,
        {"input": {"available": False, "userId": "dana"}},
        token=world.token(settings, "manager"),
    )
    waiting = (await file(client, world.token(settings, "requester")))["case"]
    assert isinstance(waiting, dict)
    assert waiting["assignedTo"] is None and waiting["version"] == 1


async def test_case_type_skills_narrow_the_pool(client: GraphQLClient, world: World, settings: Settings) -> None:
    # given: only eli has the asphalt skill
    await auto_assign(client, world.token(settings, "admin"), skills=["Asphalt"])
    skilled = await client.data(
        SET_AGENT_SKILLS_MUTATION,
        {"input": {"userId": "eli", "skills": ["asphalt", "signs"]}},
        token=world.token(settings, "manager"),
    )
    assert skilled["setAgentSkills"] == {"user": {"id": "eli", "skills": ["asphalt", "signs"]}, "errors": []}
    # when
    routed = [(await file(client, world.token(settings, "requester")))["case"] for _ in range(3)]
    # then: all to eli, however loaded
    assert all(isinstance(c, dict) and c["assignedTo"] == {"id": "eli"} for c in routed)


async def test_submitting_a_draft_routes_it(client: GraphQLClient, world: World, settings: Settings) -> None:
    # given
    await auto_assign(client, world.token(settings, "admin"))
    alice = world.token(settings, "requester")
    draft = (await file(client, alice, submit=False))["case"]
    assert isinstance(draft, dict) and draft["assignedTo"] is None
    # when
    submitted = await client.data(SUBMIT_CASE_MUTATION, {"input": {"caseId": draft["id"]}}, token=alice)
    # then
    assert submitted["submitCase"]["case"]["status"] == "NEW"
    assert submitted["submitCase"]["case"]["assignedTo"]["id"] in {"dana", "eli"}


async def test_only_the_agent_their_manager_or_an_admin_change_routing_settings(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # when
    by_peer = await client.data(
        SET_AVAILABILITY_MUTATION,
        {"input": {"available": False, "userId": "dana"}},
        token=world.token(settings, "other_agent"),
    )
    by_outside_manager = await client.data(
        SET_AGENT_SKILLS_MUTATION,
        {"input": {"userId": "dana", "skills": ["x"]}},
        token=world.token(settings, "outsider_manager"),
    )
    by_agent_for_self = await client.data(
        SET_AGENT_SKILLS_MUTATION, {"input": {"userId": "dana", "skills": ["x"]}}, token=world.token(settings, "agent")
    )
    type_by_manager = await client.data(
        UPDATE_CASE_TYPE_MUTATION,
        {"input": {"code": "POTHOLE", "autoAssign": True}},
        token=world.token(settings, "manager"),
    )
    bad_skill = await client.data(
        SET_AGENT_SKILLS_MUTATION,
        {"input": {"userId": "dana", "skills": ["no spaces"]}},
        token=world.token(settings, "admin"),
    )
    # then
    assert by_peer["setAvailability"]["errors"][0]["code"] == "PERMISSION_DENIED"
    assert by_outside_manager["setAgentSkills"]["errors"][0]["code"] == "PERMISSION_DENIED"
    assert by_agent_for_self["setAgentSkills"]["errors"][0]["code"] == "PERMISSION_DENIED"
    assert type_by_manager["updateCaseType"]["errors"][0]["code"] == "PERMISSION_DENIED"
    assert bad_skill["setAgentSkills"]["errors"][0] == {"code": "VALIDATION_FAILED", "field": "skills"}


async def test_a_user_id_no_user_can_have_is_not_found_like_an_unknown_one(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: ids longer than the column, or holding NUL (which PostgreSQL text cannot hold)
    admin = world.token(settings, "admin")
    user_ids = ["nobody", "dana" + "x" * 255, "d" * 30_000, "dana\x00"]
    # when
    availability = [
        (await client.data(SET_AVAILABILITY_MUTATION, {"input": {"available": False, "userId": user_id}}, token=admin))[
            "setAvailability"
        ]
        for user_id in user_ids
    ]
    skills = [
        (await client.data(SET_AGENT_SKILLS_MUTATION, {"input": {"userId": user_id, "skills": ["x"]}}, token=admin))[
            "setAgentSkills"
        ]
        for user_id in user_ids
    ]
    # then
    assert [payload["errors"][0]["code"] for payload in availability] == ["NOT_FOUND"] * len(user_ids)
    assert [payload["errors"][0]["code"] for payload in skills] == ["NOT_FOUND"] * len(user_ids)
