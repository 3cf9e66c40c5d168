"""Duplicates over GraphQL: similar open cases for staff reviewing a case (same type, similar text,
nearby location, only cases the viewer may see), and marking a case a duplicate of another
(resolved with code DUPLICATE under PROPOSE_SOLUTION's rules, linked both ways, an event on each)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from casegraph.domain import lifecycle as lc
from casegraph.services.records import CaseRecord
from casegraph.settings import Settings
from models import Case
from tests.helpers import GraphQLClient, RecordingPublisher, World, case_row, event_count, insert_case

SIMILAR_CASES_QUERY = """
query SimilarCases($caseId: ID!, $first: Int, $radiusMeters: Float) {
  similarCases(caseId: $caseId, first: $first, radiusMeters: $radiusMeters) {
    score textSimilarity distanceMeters case { id title }
  }
}
"""
CASE_PAYLOAD = """case { id status version resolutionCode resolutionNotes duplicateOf { id } }
    event { sequence type action version toStatus details } errors { code field }"""
MARK_DUPLICATE_MUTATION = f"""
mutation MarkDuplicate($input: MarkDuplicateInput!) {{ markDuplicate(input: $input) {{ {CASE_PAYLOAD} }} }}
"""
REJECT_SOLUTION_MUTATION = f"""
mutation RejectSolution($input: RejectSolutionInput!) {{ rejectSolution(input: $input) {{ {CASE_PAYLOAD} }} }}
"""
CASE_QUERY = """
query Case($id: ID!) {
  case(id: $id) {
    version status duplicateOf { id } duplicates { id }
    history { edges { node { action type version details } } }
  }
}
"""


@pytest.fixture
def token(world: World, settings: Settings) -> Callable[[str], str]:
    return lambda who: world.token(settings, who)


async def attempt(client: GraphQLClient, document: str, token: str, **fields: Any) -> dict[str, Any]:
    data = await client.data(document, {"input": fields}, token=token)
    payload: dict[str, Any] = next(iter(data.values()))
    return payload


async def act(client: GraphQLClient, document: str, token: str, **fields: Any) -> dict[str, Any]:
    payload = await attempt(client, document, token, **fields)
    assert payload["errors"] == [], payload["errors"]
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["errors"]]


def fields(payload: dict[str, Any]) -> list[str | None]:
    return [error["field"] for error in payload["errors"]]


async def case_with(
    world: World,
    title: str,
    description: str | None = None,
    *,
    at: tuple[float, float] | None = None,
    **options: Any,
) -> CaseRecord:
    """A case placed in a state, with the text and (optionally) the location given."""
    record = await insert_case(world, title=title, **options)
    await Case.filter(id=record.id).update(
        description=description, latitude=at[0] if at else None, longitude=at[1] if at else None
    )
    return await case_row(record.id)


async def similar(client: GraphQLClient, token: str, case_id: str, **variables: Any) -> list[dict[str, Any]]:
    data = await client.data(SIMILAR_CASES_QUERY, {"caseId": case_id, **variables}, token=token)
    found: list[dict[str, Any]] = data["similarCases"]
    return found


def top_level_code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return str(body["errors"][0]["extensions"]["code"])


ELM = (52.37000, 4.89000)


def north_of(point: tuple[float, float], meters: float) -> tuple[float, float]:
    return point[0] + meters / 111_195.0, point[1]


# --- similar cases ---------------------------------------------------------------------------------


async def test_similar_cases_are_open_cases_of_the_same_type_ranked_by_text(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a case under review and others more or less like it
    subject = await case_with(world, "Pothole on Elm Street", "A deep pothole near number 12.", state=lc.REVIEW_OPEN)
    close = await case_with(world, "Deep potholes Elm Street", "Pothole by number 12, two wheels lost.")
    partial = await case_with(world, "Pothole on Oak Avenue", "Small hole.")
    await case_with(world, "Broken lamp post", "Dark at night on Oak Avenue.")
    await case_with(world, "Pothole on Elm Street", "A deep pothole near number 12.", case_type="QUESTION")
    await case_with(world, "Pothole on Elm Street", "A deep pothole near number 12.", state=lc.CLOSED)
    await case_with(
        world,
        "Pothole on Elm Street",
        "A deep pothole near number 12.",
        state=lc.DRAFT,
        requester="agent",
        assigned_to=None,
    )
    # when
    found = await similar(client, token("agent"), subject.id)
    # then
    assert [s["case"]["id"] for s in found] == [close.id, partial.id]
    assert found[0]["score"] > found[1]["score"] >= 0.2
    assert all(s["distanceMeters"] is None and s["score"] == s["textSimilarity"] for s in found)


async def test_similar_cases_leave_out_cases_the_agent_may_not_see(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a twin of the subject that was handed to another group
    subject = await case_with(world, "Pothole on Elm Street", "Deep.", state=lc.REVIEW_OPEN)
    twin = await case_with(world, "Pothole on Elm Street", "Deep.", assigned_to=None)
    await Case.filter(id=twin.id).update(assignment_group_id=world.group_ids["BENEFITS"])
    hidden = await case_with(world, "Pothole on Elm Street", "Deep.", assigned_to=None)
    await Case.filter(id=hidden.id).update(assignment_group_id=world.group_ids["BENEFITS"])
    visible = await case_with(world, "Elm Street pothole", "Deep.")
    # when
    found = await similar(client, token("agent"), subject.id)
    # then
    assert [s["case"]["id"] for s in found] == [visible.id]


async def test_nearby_cases_count_as_similar_within_the_radius(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a located case, one nearby worded differently, one far away worded alike, one far and unlike
    subject = await case_with(world, "Pothole on Elm Street", "Deep hole.", at=ELM, state=lc.REVIEW_OPEN)
    nearby = await case_with(world, "Road surface broken", "Cars swerve.", at=north_of(ELM, 50))
    alike_far = await case_with(world, "Pothole on Elm Street", "Deep hole.", at=north_of(ELM, 5_000))
    await case_with(world, "Road surface broken", "Cars swerve.", at=north_of(ELM, 5_000))
    unlocated = await case_with(world, "Pothole Elm Street", "Deep hole.")
    dana = token("agent")
    # when
    found = {s["case"]["id"]: s for s in await similar(client, dana, subject.id)}
    narrow = {s["case"]["id"] for s in await similar(client, dana, subject.id, radiusMeters=10)}
    # then
    assert set(found) == {nearby.id, alike_far.id, unlocated.id}
    assert 45 < found[nearby.id]["distanceMeters"] < 55 and found[nearby.id]["textSimilarity"] == 0
    assert found[alike_far.id]["textSimilarity"] == 1 and found[alike_far.id]["distanceMeters"] > 4_900
    assert found[unlocated.id]["distanceMeters"] is None
    assert narrow == {alike_far.id, unlocated.id}


async def test_similar_cases_are_for_staff_handling_the_case(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    subject = await case_with(world, "Pothole on Elm Street", "Deep.", state=lc.REVIEW_OPEN)
    # when / then
    for who, variables, code in (
        ("requester", {}, "PERMISSION_DENIED"),
        ("admin", {}, "PERMISSION_DENIED"),
        ("outsider_agent", {}, "NOT_FOUND"),
        ("agent", {"radiusMeters": 0}, "VALIDATION_FAILED"),
        ("agent", {"radiusMeters": 60_000}, "VALIDATION_FAILED"),
        ("agent", {"first": 51}, "VALIDATION_FAILED"),
    ):
        body = await client.execute(SIMILAR_CASES_QUERY, {"caseId": subject.id, **variables}, token=token(who))
        assert top_level_code(body) == code, (who, variables)
    assert await similar(client, token("other_agent"), subject.id) == []
    assert await similar(client, token("manager"), subject.id) == []


# --- marking duplicates ------------------------------------------------------------------------------


async def test_marking_a_duplicate_resolves_it_and_links_both_cases_with_an_event_each(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # given an original and a later report of the same pothole
    dana = token("agent")
    original = await case_with(world, "Pothole on Elm Street", "Deep.", state=lc.REVIEW_OPEN)
    duplicate = await case_with(
        world, "Elm Street pothole", "Deep.", state=lc.REVIEW_OPEN, requester="other_constituent"
    )
    assert [s["case"]["id"] for s in await similar(client, dana, duplicate.id)] == [original.id]
    # when
    payload = await act(
        client, MARK_DUPLICATE_MUTATION, dana, caseId=duplicate.id, duplicateOfId=original.id, expectedVersion=1
    )
    # then the duplicate is resolved, pointing at the original
    marked = payload["case"]
    assert (marked["status"], marked["resolutionCode"], marked["version"]) == ("RESOLVED", "DUPLICATE", 2)
    assert marked["duplicateOf"] == {"id": original.id} and marked["resolutionNotes"]
    assert (payload["event"]["action"], payload["event"]["type"]) == ("MARK_DUPLICATE", "CASE_TRANSITIONED")
    assert payload["event"]["details"] == {
        "resolutionCode": "DUPLICATE",
        "duplicateOfId": original.id,
        "resolutionNotes": marked["resolutionNotes"],
    }
    # and the original shows its duplicate, with an event of its own
    seen = (await client.data(CASE_QUERY, {"id": original.id}, token=dana))["case"]
    assert (seen["duplicates"], seen["version"], seen["status"]) == ([{"id": duplicate.id}], 2, "OPEN")
    last = seen["history"]["edges"][-1]["node"]
    assert (last["action"], last["type"], last["version"], last["details"]) == (
        "MARK_DUPLICATE",
        "CASE_UPDATED",
        2,
        {"duplicateId": duplicate.id},
    )
    assert [(e.case_id, e.action.value) for e in publisher.events] == [
        (duplicate.id, "MARK_DUPLICATE"),
        (original.id, "MARK_DUPLICATE"),
    ]
    assert await similar(client, dana, original.id) == []


async def test_marking_a_duplicate_follows_the_propose_solution_rules(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given an open original and candidate duplicates in several statuses
    original = await case_with(world, "Pothole", "Deep.", state=lc.REVIEW_OPEN)
    reviewing = await case_with(world, "Pothole", "Deep.", state=lc.REVIEW_OPEN)
    new = await case_with(world, "Pothole", "Deep.", state=lc.INTAKE_NEW)
    assigning = await case_with(world, "Pothole", "Deep.", state=lc.PROCESS_ASSIGNMENT)
    resolved = await case_with(world, "Pothole", "Deep.", state=lc.RESOLVED)
    events = await event_count()
    # when / then
    for who, case_id, code in (
        ("other_agent", reviewing.id, "PERMISSION_DENIED"),
        ("requester", reviewing.id, "PERMISSION_DENIED"),
        ("field_agent", reviewing.id, "NOT_FOUND"),
        ("outsider_agent", reviewing.id, "NOT_FOUND"),
        ("agent", new.id, "TRANSITION_NOT_ALLOWED"),
        ("agent", assigning.id, "TRANSITION_NOT_ALLOWED"),
        ("agent", resolved.id, "TRANSITION_NOT_ALLOWED"),
    ):
        payload = await attempt(client, MARK_DUPLICATE_MUTATION, token(who), caseId=case_id, duplicateOfId=original.id)
        assert codes(payload) == [code], (who, case_id, payload)
    assert await event_count() == events
    # a manager of the group may, like proposeSolution
    by_manager = await act(
        client,
        MARK_DUPLICATE_MUTATION,
        token("manager"),
        caseId=reviewing.id,
        duplicateOfId=original.id,
        resolutionNotes="Same pothole as CS0001001.",
    )
    assert by_manager["case"]["resolutionNotes"] == "Same pothole as CS0001001."


async def test_the_original_must_be_another_open_case_the_agent_sees(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    dana = token("agent")
    case = await case_with(world, "Pothole", "Deep.", state=lc.REVIEW_OPEN)
    closed = await case_with(world, "Pothole", "Deep.", state=lc.CLOSED)
    elsewhere = await case_with(world, "Payment", "Late.", case_type="PAYMENT", assigned_to="outsider_agent")
    original = await case_with(world, "Pothole", "Deep.", state=lc.REVIEW_OPEN)
    already = await case_with(world, "Pothole", "Deep.", state=lc.REVIEW_OPEN)
    await act(client, MARK_DUPLICATE_MUTATION, dana, caseId=already.id, duplicateOfId=original.id)
    events = await event_count()
    # when / then
    for wanted, extra, code, field in (
        (case.id, {}, "VALIDATION_FAILED", "duplicateOfId"),
        (closed.id, {}, "VALIDATION_FAILED", "duplicateOfId"),
        (already.id, {}, "VALIDATION_FAILED", "duplicateOfId"),
        (elsewhere.id, {}, "NOT_FOUND", "duplicateOfId"),
        ("not-a-case", {}, "NOT_FOUND", "duplicateOfId"),
        (original.id, {"resolutionNotes": "x" * 20_001}, "VALIDATION_FAILED", "resolutionNotes"),
        (original.id, {"expectedVersion": 5}, "VERSION_CONFLICT", "expectedVersion"),
    ):
        payload = await attempt(client, MARK_DUPLICATE_MUTATION, dana, caseId=case.id, duplicateOfId=wanted, **extra)
        assert (codes(payload), fields(payload)) == ([code], [field]), (wanted, payload)
    assert await event_count() == events


async def test_the_requester_of_a_duplicate_does_not_see_someone_elses_original(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given alice's original and bob's duplicate
    original = await case_with(world, "Pothole", "Deep.", state=lc.REVIEW_OPEN)
    duplicate = await case_with(world, "Pothole", "Deep.", state=lc.REVIEW_OPEN, requester="other_constituent")
    await act(client, MARK_DUPLICATE_MUTATION, token("agent"), caseId=duplicate.id, duplicateOfId=original.id)
    # when
    bobs = (await client.data(CASE_QUERY, {"id": duplicate.id}, token=token("other_constituent")))["case"]
    alices = (await client.data(CASE_QUERY, {"id": original.id}, token=token("requester")))["case"]
    # then
    assert (bobs["status"], bobs["duplicateOf"]) == ("RESOLVED", None)
    assert alices["duplicates"] == []


async def test_a_rejected_duplicate_no_longer_points_at_its_original(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a case marked as a duplicate
    dana = token("agent")
    original = await case_with(world, "Pothole", "Deep.", state=lc.REVIEW_OPEN)
    duplicate = await case_with(world, "Pothole", "Deep.", state=lc.REVIEW_OPEN, requester="other_constituent")
    await act(client, MARK_DUPLICATE_MUTATION, dana, caseId=duplicate.id, duplicateOfId=original.id)
    # when its requester rejects that solution
    rejected = await act(
        client,
        REJECT_SOLUTION_MUTATION,
        token("other_constituent"),
        caseId=duplicate.id,
        reason="Mine is on the other side of the street.",
    )
    # then
    assert (rejected["case"]["status"], rejected["case"]["duplicateOf"]) == ("OPEN", None)
    assert (await case_row(duplicate.id)).duplicate_of_id is None
    assert (await client.data(CASE_QUERY, {"id": original.id}, token=dana))["case"]["duplicates"] == []
    assert [s["case"]["id"] for s in await similar(client, dana, original.id)] == [duplicate.id]


UPDATE_CASE_MUTATION = """
mutation UpdateCase($input: UpdateCaseInput!) { updateCase(input: $input) { event { sequence } errors { code } } }
"""


async def test_marking_a_duplicate_while_both_cases_are_being_commented_loses_and_deadlocks_nothing(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given two cases that group agents keep commenting on
    original = await case_with(world, "Pothole", "Deep.", state=lc.REVIEW_OPEN)
    duplicate = await case_with(world, "Pothole", "Deep.", state=lc.REVIEW_OPEN)
    eli = token("other_agent")
    comments = [
        attempt(client, UPDATE_CASE_MUTATION, eli, caseId=case_id, comment=f"Note {n}")
        for n in range(4)
        for case_id in (original.id, duplicate.id)
    ]
    # when the duplicate is marked meanwhile
    marking, *commented = await asyncio.gather(
        attempt(client, MARK_DUPLICATE_MUTATION, token("agent"), caseId=duplicate.id, duplicateOfId=original.id),
        *comments,
    )
    # then every writer got through, and each case's version counts its events exactly
    assert marking["errors"] == [] and all(c["errors"] == [] for c in commented)
    for case_id in (original.id, duplicate.id):
        assert (await case_row(case_id)).version == await event_count(case_id) == 1 + 4 + 1
    assert (await case_row(duplicate.id)).duplicate_of_id == original.id
