"""Drafts, soft delete and restore, surveys, idempotency keys, administration, and who may file
cases for whom (lifecycle.md *Actions*, api.md *Operations* and *Idempotency*)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from casegraph.domain import lifecycle as lc
from casegraph.domain.enums import Role
from casegraph.services.idempotency import LEASE
from casegraph.settings import Settings
from models import IdempotencyRecord
from tests.helpers import FakeClock, GraphQLClient, RecordingPublisher, World, case_row, event_count, insert_case

EVENT_FIELDS = "sequence type action version fromStatus toStage toStatus actor { id }"
PAYLOAD = f"""case {{ id status stage version workflow deletedAt requester {{ id }} caseType {{ code }} }}
    event {{ {EVENT_FIELDS} }} errors {{ code field }}"""


def _case_mutation(field: str) -> str:
    name = field[0].upper() + field[1:]
    return f"mutation {name}($input: {name}Input!) {{ {field}(input: $input) {{ {PAYLOAD} }} }}"


CREATE_CASE_MUTATION = _case_mutation("createCase")
SUBMIT_CASE_MUTATION = _case_mutation("submitCase")
UPDATE_CASE_MUTATION = _case_mutation("updateCase")
ACCEPT_CASE_MUTATION = _case_mutation("acceptCase")
BEGIN_REVIEW_MUTATION = _case_mutation("beginReview")
PROPOSE_SOLUTION_MUTATION = _case_mutation("proposeSolution")
ACCEPT_SOLUTION_MUTATION = _case_mutation("acceptSolution")
CLOSE_CASE_MUTATION = _case_mutation("closeCase")
DELETE_CASE_MUTATION = _case_mutation("deleteCase")
RESTORE_CASE_MUTATION = _case_mutation("restoreCase")
SUBMIT_SURVEY_MUTATION = _case_mutation("submitSurvey")
CREATE_ASSIGNMENT_GROUP_MUTATION = """
mutation CreateAssignmentGroup($input: CreateAssignmentGroupInput!) {
  createAssignmentGroup(input: $input) { assignmentGroup { code name } errors { code field } }
}
"""
ADD_GROUP_MEMBER_MUTATION = """
mutation AddGroupMember($input: AddGroupMemberInput!) {
  addGroupMember(input: $input) { assignmentGroup { code } member { isManager user { id } } errors { code field } }
}
"""
CREATE_CASE_TYPE_MUTATION = """
mutation CreateCaseType($input: CreateCaseTypeInput!) {
  createCaseType(input: $input) { caseType { code name workflow autoAssign assignmentGroup { code } } errors { code field } }
}
"""
CASE_QUERY = (
    "query Case($id: ID!) { case(id: $id) { id status deletedAt survey { rating comment } comments { body } } }"
)
CASES_QUERY = """
query Cases($filter: CaseFilterInput) { cases(filter: $filter, first: 100) { totalCount edges { node { id deletedAt } } } }
"""
HISTORY_QUERY = "query History($id: ID!) { case(id: $id) { history { edges { node { action type version } } } } }"
ME_QUERY = "query Me { me { id groups { code } } }"
CASE_TYPES_QUERY = "query CaseTypes { caseTypes { code } }"
ASSIGNMENT_GROUPS_QUERY = "query AssignmentGroups { assignmentGroups { code } }"


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


async def sees(client: GraphQLClient, token: str, case_id: str) -> bool:
    found = (await client.data(CASE_QUERY, {"id": case_id}, token=token))["case"] is not None
    listed = case_id in {e["node"]["id"] for e in (await client.data(CASES_QUERY, token=token))["cases"]["edges"]}
    assert found is listed
    return found


async def test_draft_is_seen_only_by_its_author_and_submits_to_new_at_version_two(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    alice = token("requester")
    draft = await act(client, CREATE_CASE_MUTATION, alice, caseTypeCode="POTHOLE", title="Draft hole", submit=False)
    case_id = draft["case"]["id"]
    assert (draft["case"]["stage"], draft["case"]["status"], draft["case"]["version"]) == ("DRAFT", "DRAFT", 1)
    assert (draft["event"]["type"], draft["event"]["toStatus"]) == ("CASE_CREATED", "DRAFT")
    # when / then: nobody else sees or touches it, the administrator included
    assert await sees(client, alice, case_id)
    for who in ("agent", "manager", "admin", "other_constituent"):
        assert not await sees(client, token(who), case_id), who
    assert codes(await attempt(client, SUBMIT_CASE_MUTATION, token("manager"), caseId=case_id)) == ["NOT_FOUND"]
    assert codes(await attempt(client, UPDATE_CASE_MUTATION, token("agent"), caseId=case_id, title="X")) == [
        "NOT_FOUND"
    ]
    submitted = await act(client, SUBMIT_CASE_MUTATION, alice, caseId=case_id)
    assert (submitted["case"]["stage"], submitted["case"]["status"], submitted["case"]["version"]) == (
        "INTAKE",
        "NEW",
        2,
    )
    assert (submitted["event"]["action"], submitted["event"]["type"], submitted["event"]["fromStatus"]) == (
        "SUBMIT",
        "CASE_TRANSITIONED",
        "DRAFT",
    )
    assert await sees(client, token("manager"), case_id) and await sees(client, token("admin"), case_id)


async def test_incomplete_draft_submits_only_once_the_author_gives_title_and_case_type(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given an empty draft
    alice = token("requester")
    case_id = (await act(client, CREATE_CASE_MUTATION, alice, submit=False))["case"]["id"]
    # when / then
    assert codes(await attempt(client, SUBMIT_CASE_MUTATION, alice, caseId=case_id)) == ["TRANSITION_NOT_ALLOWED"]
    await act(client, UPDATE_CASE_MUTATION, alice, caseId=case_id, title="Where do I park?")
    assert codes(await attempt(client, SUBMIT_CASE_MUTATION, alice, caseId=case_id)) == ["TRANSITION_NOT_ALLOWED"]
    typed = await act(client, UPDATE_CASE_MUTATION, alice, caseId=case_id, caseTypeCode="QUESTION")
    assert typed["case"]["status"] == "DRAFT" and typed["case"]["version"] == 3
    submitted = await act(client, SUBMIT_CASE_MUTATION, alice, caseId=case_id)
    assert submitted["case"]["status"] == "NEW" and submitted["case"]["version"] == 4
    assert submitted["case"]["workflow"] == "CUSTOMER_SERVICE" and submitted["case"]["caseType"] == {"code": "QUESTION"}
    assert await event_count(case_id) == 4


async def test_staff_draft_for_a_constituent_is_hidden_from_them_until_submitted(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    dana, alice = token("agent"), token("requester")
    draft = await act(
        client, CREATE_CASE_MUTATION, dana, caseTypeCode="POTHOLE", title="Phoned in", requesterId="alice", submit=False
    )
    case_id = draft["case"]["id"]
    # when / then
    assert not await sees(client, alice, case_id) and not await sees(client, token("other_agent"), case_id)
    await act(client, SUBMIT_CASE_MUTATION, dana, caseId=case_id)
    assert await sees(client, alice, case_id) and await sees(client, token("other_agent"), case_id)


async def test_deleted_case_disappears_for_everyone_until_an_admin_restores_it(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a resolved case its requester deletes
    alice, ada = token("requester"), token("admin")
    case = await insert_case(world, state=lc.RESOLVED)
    deleted = await act(client, DELETE_CASE_MUTATION, alice, caseId=case.id)
    assert (deleted["event"]["type"], deleted["event"]["action"], deleted["case"]["version"]) == (
        "CASE_DELETED",
        "DELETE",
        2,
    )
    # when / then
    for who in ("requester", "agent", "other_agent", "manager"):
        assert not await sees(client, token(who), case.id), who
    assert case.id not in {e["node"]["id"] for e in (await client.data(CASES_QUERY, token=ada))["cases"]["edges"]}
    listed = (await client.data(CASES_QUERY, {"filter": {"includeDeleted": True}}, token=ada))["cases"]["edges"]
    assert [e["node"]["id"] for e in listed if e["node"]["deletedAt"]] == [case.id]
    assert codes(await attempt(client, ACCEPT_SOLUTION_MUTATION, alice, caseId=case.id)) == ["NOT_FOUND"]
    assert codes(await attempt(client, RESTORE_CASE_MUTATION, token("manager"), caseId=case.id)) == ["NOT_FOUND"]
    restored = await act(client, RESTORE_CASE_MUTATION, ada, caseId=case.id)
    assert (restored["event"]["type"], restored["event"]["action"], restored["case"]["version"]) == (
        "CASE_RESTORED",
        "RESTORE",
        3,
    )
    assert restored["case"]["deletedAt"] is None and restored["case"]["status"] == "RESOLVED"
    assert await sees(client, alice, case.id) and await sees(client, token("manager"), case.id)
    assert codes(await attempt(client, RESTORE_CASE_MUTATION, ada, caseId=case.id)) == ["TRANSITION_NOT_ALLOWED"]
    history = (await client.data(HISTORY_QUERY, {"id": case.id}, token=alice))["case"]["history"]["edges"]
    assert [e["node"]["action"] for e in history] == ["CREATE", "DELETE", "RESTORE"]


async def test_delete_follows_the_relation_and_status_rules(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given (who, state, assignee) -> expected refusal code, or None for a delete
    table: list[tuple[str, lc.State, str | None, str | None]] = [
        ("agent", lc.INTAKE_NEW, "agent", None),
        ("agent", lc.INTAKE_OPEN, "agent", None),
        ("agent", lc.REVIEW_AWAITING, "agent", None),
        ("manager", lc.REVIEW_OPEN, "other_agent", None),
        ("requester", lc.RESOLVED, "agent", None),
        ("requester", lc.DRAFT, None, None),
        ("agent", lc.PROCESS_WORK, "agent", "TRANSITION_NOT_ALLOWED"),
        ("manager", lc.READY_FOR_DECISION, "agent", "TRANSITION_NOT_ALLOWED"),
        ("requester", lc.INTAKE_OPEN, "agent", "TRANSITION_NOT_ALLOWED"),
        ("other_agent", lc.INTAKE_NEW, "agent", "PERMISSION_DENIED"),
        ("admin", lc.INTAKE_NEW, "agent", "PERMISSION_DENIED"),
    ]
    # when / then
    for who, state, assignee, expected in table:
        case = await insert_case(world, state=state, assigned_to=assignee)
        payload = await attempt(client, DELETE_CASE_MUTATION, token(who), caseId=case.id)
        if expected is None:
            assert payload["errors"] == [] and payload["event"]["type"] == "CASE_DELETED", (who, state)
            assert (await case_row(case.id)).deleted
        else:
            assert codes(payload) == [expected], (who, state)
            assert not (await case_row(case.id)).deleted


async def test_survey_is_taken_once_after_accept_solution_with_a_rating_from_one_to_five(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given two cases closed by the requester accepting the solution
    alice = token("requester")
    first = await insert_case(world, state=lc.CLOSED, solution_accepted=True)
    second = await insert_case(world, state=lc.CLOSED, solution_accepted=True)
    # when / then
    for rating in (0, 6, -1):
        payload = await attempt(client, SUBMIT_SURVEY_MUTATION, alice, caseId=first.id, rating=rating)
        assert codes(payload) == ["VALIDATION_FAILED"] and payload["errors"][0]["field"] == "rating"
    assert codes(await attempt(client, SUBMIT_SURVEY_MUTATION, token("agent"), caseId=first.id, rating=5)) == [
        "PERMISSION_DENIED"
    ]
    assert (await client.data(CASE_QUERY, {"id": first.id}, token=alice))["case"]["survey"] is None
    taken = await act(client, SUBMIT_SURVEY_MUTATION, alice, caseId=first.id, rating=1, comment="Slow.")
    assert (taken["event"]["action"], taken["event"]["type"], taken["case"]["version"]) == (
        "SUBMIT_SURVEY",
        "CASE_UPDATED",
        2,
    )
    again = await attempt(client, SUBMIT_SURVEY_MUTATION, alice, caseId=first.id, rating=5)
    assert codes(again) == ["TRANSITION_NOT_ALLOWED"]
    await act(client, SUBMIT_SURVEY_MUTATION, alice, caseId=second.id, rating=5)
    assert (await client.data(CASE_QUERY, {"id": first.id}, token=alice))["case"]["survey"] == {
        "rating": 1,
        "comment": "Slow.",
    }
    assert (await client.data(CASE_QUERY, {"id": second.id}, token=alice))["case"]["survey"] == {
        "rating": 5,
        "comment": None,
    }


async def test_survey_is_refused_unless_the_case_closed_by_accepting_the_solution(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given cases closed by staff, closed or cancelled by the requester, and one merely resolved
    alice, dana = token("requester"), token("agent")
    by_staff = await insert_case(world, state=lc.INTAKE_OPEN)
    await act(client, CLOSE_CASE_MUTATION, dana, caseId=by_staff.id, resolutionNotes="Sorted by phone.")
    by_requester = await insert_case(world, state=lc.REVIEW_OPEN)
    await act(client, CLOSE_CASE_MUTATION, alice, caseId=by_requester.id)
    cancelled = await insert_case(world, state=lc.CANCELLED)
    resolved = await insert_case(world, state=lc.RESOLVED)
    # when / then
    for case_id in (by_staff.id, by_requester.id, cancelled.id, resolved.id):
        assert codes(await attempt(client, SUBMIT_SURVEY_MUTATION, alice, caseId=case_id, rating=5)) == [
            "TRANSITION_NOT_ALLOWED"
        ]


async def test_repeating_a_key_replays_the_payload_and_records_nothing(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # given
    alice = token("requester")
    case = await insert_case(world)
    # when
    first = await act(client, UPDATE_CASE_MUTATION, alice, caseId=case.id, comment="Any news?", idempotencyKey="k-1")
    repeat = await act(client, UPDATE_CASE_MUTATION, alice, caseId=case.id, comment="Any news?", idempotencyKey="k-1")
    # then
    assert repeat == first and first["case"]["version"] == 2
    assert await event_count(case.id) == 2 and len(publisher.events) == 1
    comments = (await client.data(CASE_QUERY, {"id": case.id}, token=alice))["case"]["comments"]
    assert comments == [{"body": "Any news?"}]


async def test_a_key_reused_for_another_input_or_mutation_is_refused(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    alice = token("requester")
    case = await insert_case(world)
    await act(client, UPDATE_CASE_MUTATION, alice, caseId=case.id, comment="First", idempotencyKey="k-2")
    # when
    other_input = await attempt(
        client, UPDATE_CASE_MUTATION, alice, caseId=case.id, comment="Second", idempotencyKey="k-2"
    )
    other_mutation = await attempt(client, CLOSE_CASE_MUTATION, alice, caseId=case.id, idempotencyKey="k-2")
    # then
    for payload in (other_input, other_mutation):
        assert codes(payload) == ["VALIDATION_FAILED"] and payload["errors"][0]["field"] == "idempotencyKey"
    assert (await case_row(case.id)).version == 2 and (await case_row(case.id)).status.value == "NEW"


async def test_a_key_is_kept_for_twenty_four_hours_only(
    client: GraphQLClient, world: World, token: Callable[[str], str], clock: FakeClock
) -> None:
    # given
    alice = token("requester")
    case = await insert_case(world)
    await act(client, UPDATE_CASE_MUTATION, alice, caseId=case.id, comment="Monday", idempotencyKey="k-3")
    clock.advance(timedelta(hours=23))
    within = await attempt(client, UPDATE_CASE_MUTATION, alice, caseId=case.id, comment="Tuesday", idempotencyKey="k-3")
    # when
    clock.advance(timedelta(hours=2))
    after = await attempt(
        client, UPDATE_CASE_MUTATION, alice, caseId=case.id, comment="Wednesday", idempotencyKey="k-3"
    )
    # then
    assert codes(within) == ["VALIDATION_FAILED"]
    assert after["errors"] == [] and after["case"]["version"] == 3


async def test_keys_are_scoped_to_their_user(client: GraphQLClient, world: World, token: Callable[[str], str]) -> None:
    # given
    case = await insert_case(world, state=lc.INTAKE_OPEN)
    # when one key is used by two people for different requests, and another by two for the same filing
    by_alice = await attempt(
        client, UPDATE_CASE_MUTATION, token("requester"), caseId=case.id, comment="Hi", idempotencyKey="same"
    )
    by_dana = await attempt(client, BEGIN_REVIEW_MUTATION, token("agent"), caseId=case.id, idempotencyKey="same")
    filings = [
        await attempt(
            client,
            CREATE_CASE_MUTATION,
            token(who),
            caseTypeCode="QUESTION",
            title="Hours?",
            idempotencyKey="same-filing",
        )
        for who in ("other_constituent", "requester")
    ]
    # then
    assert by_alice["errors"] == by_dana["errors"] == filings[0]["errors"] == filings[1]["errors"] == []
    assert by_dana["case"]["version"] == 3
    assert [f["case"]["requester"]["id"] for f in filings] == ["bob", "alice"]
    assert filings[0]["case"]["id"] != filings[1]["case"]["id"]


async def test_a_refusal_is_replayed_even_once_the_action_would_succeed(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # given a refused beginReview on a NEW case, which the agent then accepts
    dana = token("agent")
    case = await insert_case(world, state=lc.INTAKE_NEW)
    refused = await attempt(client, BEGIN_REVIEW_MUTATION, dana, caseId=case.id, idempotencyKey="r-1")
    await act(client, ACCEPT_CASE_MUTATION, dana, caseId=case.id)
    # when
    replayed = await attempt(client, BEGIN_REVIEW_MUTATION, dana, caseId=case.id, idempotencyKey="r-1")
    # then
    assert codes(refused) == ["TRANSITION_NOT_ALLOWED"] and replayed == refused
    row = await case_row(case.id)
    assert (row.version, row.status.value, row.stage.value) == (2, "OPEN", "INTAKE") and len(publisher.events) == 1
    assert (await act(client, BEGIN_REVIEW_MUTATION, dana, caseId=case.id, idempotencyKey="r-2"))["case"][
        "stage"
    ] == "REVIEW"


async def test_concurrent_repeats_of_a_key_record_exactly_one_event(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # given
    alice, dana = token("requester"), token("agent")
    case = await insert_case(world, state=lc.INTAKE_OPEN)
    fields = {"caseId": case.id, "resolutionCode": "SOLVED", "resolutionNotes": "Done", "idempotencyKey": "p-1"}
    # when
    created = await asyncio.gather(
        *(
            attempt(client, CREATE_CASE_MUTATION, alice, caseTypeCode="QUESTION", title="Once", idempotencyKey="c-1")
            for _ in range(5)
        )
    )
    proposed = await asyncio.gather(*(attempt(client, PROPOSE_SOLUTION_MUTATION, dana, **fields) for _ in range(4)))
    # then
    assert all(payload == created[0] for payload in created) and created[0]["errors"] == []
    assert all(payload == proposed[0] for payload in proposed) and proposed[0]["case"]["version"] == 2
    listed = (await client.data(CASES_QUERY, {"filter": {"caseTypeCode": ["QUESTION"]}}, token=alice))["cases"]
    assert listed["totalCount"] == 1
    assert await event_count(created[0]["case"]["id"]) == 1 and await event_count(case.id) == 2
    assert len(publisher.events) == 2


async def test_a_retry_runs_in_place_of_a_first_request_that_died_once_its_claim_is_abandoned(
    client: GraphQLClient, world: World, token: Callable[[str], str], clock: FakeClock
) -> None:
    # given: a claim with no response, as a server killed mid-request leaves it behind, made
    # just short of LEASE ago (the clock stands still: only waiting moves time on)
    clock.step = timedelta(0)
    alice = token("requester")
    fields = {"caseTypeCode": "QUESTION", "title": "Filed twice?"}
    first = await act(client, CREATE_CASE_MUTATION, alice, idempotencyKey="seen", **fields)
    seen = await IdempotencyRecord.get(key="seen")
    await IdempotencyRecord.create(
        user_id=seen.user_id,
        key="lost",
        operation=seen.operation,
        input_hash=seen.input_hash,
        created_at=clock.now - LEASE + timedelta(seconds=0.5),
    )
    # when: the client retries with the key of the request that died
    started = time.monotonic()
    retried = await attempt(client, CREATE_CASE_MUTATION, alice, idempotencyKey="lost", **fields)
    waited = time.monotonic() - started
    # then: it waited out the claim, then ran in its place, once; its response is kept
    assert retried["errors"] == [] and retried["case"]["id"] != first["case"]["id"]
    assert 0.4 < waited < 5, waited
    assert await event_count(retried["case"]["id"]) == 1
    assert (await IdempotencyRecord.get(key="lost")).response is not None


async def test_admin_creates_groups_members_and_case_types(
    client: GraphQLClient, world: World, token: Callable[[str], str], settings: Settings
) -> None:
    # given
    ada = token("admin")
    # when
    group = await act(client, CREATE_ASSIGNMENT_GROUP_MUTATION, ada, code="PARKS", name="Parks")
    member = await act(client, ADD_GROUP_MEMBER_MUTATION, ada, groupCode="PARKS", userId="pat", isManager=True)
    case_type = await act(
        client,
        CREATE_CASE_TYPE_MUTATION,
        ada,
        code="TREE",
        name="Fallen tree",
        workflow="PUBLIC_SERVICE",
        assignmentGroupCode="PARKS",
    )
    # then
    assert group["assignmentGroup"] == {"code": "PARKS", "name": "Parks"}
    assert member["member"] == {"isManager": True, "user": {"id": "pat"}} and member["assignmentGroup"] == {
        "code": "PARKS"
    }
    assert case_type["caseType"] == {
        "code": "TREE",
        "name": "Fallen tree",
        "workflow": "PUBLIC_SERVICE",
        "autoAssign": False,
        "assignmentGroup": {"code": "PARKS"},
    }
    pat = client.token("pat", Role.MANAGER)
    assert (await client.data(ME_QUERY, token=pat))["me"] == {"id": "pat", "groups": [{"code": "PARKS"}]}
    filed = await act(client, CREATE_CASE_MUTATION, pat, caseTypeCode="TREE", title="Oak down", requesterId="alice")
    assert filed["case"]["workflow"] == "PUBLIC_SERVICE" and await sees(client, pat, filed["case"]["id"])
    assert "TREE" in {t["code"] for t in (await client.data(CASE_TYPES_QUERY, token=token("requester")))["caseTypes"]}


async def test_only_admin_may_administer_and_codes_must_be_new(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    attempts: list[tuple[str, dict[str, Any], str, str | None]] = [
        (CREATE_ASSIGNMENT_GROUP_MUTATION, {"code": "ROADS", "name": "Roads again"}, "VALIDATION_FAILED", "code"),
        (
            CREATE_CASE_TYPE_MUTATION,
            {"code": "POTHOLE", "name": "Again", "workflow": "PUBLIC_SERVICE", "assignmentGroupCode": "ROADS"},
            "VALIDATION_FAILED",
            "code",
        ),
        (
            CREATE_CASE_TYPE_MUTATION,
            {"code": "NEWTYPE", "name": "New", "workflow": "PUBLIC_SERVICE", "assignmentGroupCode": "NOPE"},
            "VALIDATION_FAILED",
            "assignmentGroupCode",
        ),
        (ADD_GROUP_MEMBER_MUTATION, {"groupCode": "NOPE", "userId": "pat"}, "VALIDATION_FAILED", "groupCode"),
    ]
    # when / then
    for document, fields, code, field in attempts:
        payload = await attempt(client, document, token("admin"), **fields)
        assert codes(payload) == [code] and payload["errors"][0]["field"] == field, fields
    for who in ("manager", "agent", "requester", "field_agent"):
        for document, fields in (
            (CREATE_ASSIGNMENT_GROUP_MUTATION, {"code": "PARKS", "name": "Parks"}),
            (ADD_GROUP_MEMBER_MUTATION, {"groupCode": "ROADS", "userId": world.sub(who), "isManager": True}),
            (
                CREATE_CASE_TYPE_MUTATION,
                {"code": "TREE", "name": "Tree", "workflow": "PUBLIC_SERVICE", "assignmentGroupCode": "ROADS"},
            ),
        ):
            assert codes(await attempt(client, document, token(who), **fields)) == ["PERMISSION_DENIED"], (
                who,
                document,
            )
    groups = (await client.data(ASSIGNMENT_GROUPS_QUERY, token=token("admin")))["assignmentGroups"]
    assert [g["code"] for g in groups] == ["BENEFITS", "ROADS"]
    assert (await client.data(ME_QUERY, token=token("agent")))["me"]["groups"] == [{"code": "ROADS"}]


REMOVE_GROUP_MEMBER_MUTATION = """
mutation RemoveGroupMember($input: RemoveGroupMemberInput!) {
  removeGroupMember(input: $input) { assignmentGroup { code } errors { code field } }
}
"""


async def test_removing_a_user_id_no_user_can_have_is_refused_like_a_non_member(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: ids longer than the column, or holding NUL (which PostgreSQL text cannot hold)
    user_ids = ["nobody", world.sub("agent") + "x" * 255, world.sub("agent") + "\x00"]
    # when
    payloads = [
        await attempt(client, REMOVE_GROUP_MEMBER_MUTATION, token("admin"), groupCode="ROADS", userId=user_id)
        for user_id in user_ids
    ]
    # then: refused naming the field, and the group keeps its members
    assert [payload["errors"] for payload in payloads] == [[{"code": "VALIDATION_FAILED", "field": "userId"}]] * 3
    assert (await client.data(ME_QUERY, token=token("agent")))["me"]["groups"] == [{"code": "ROADS"}]


async def test_staff_file_only_their_groups_types_and_only_for_a_named_requester(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    dana, alice = token("agent"), token("requester")
    # when
    filed = await act(
        client, CREATE_CASE_MUTATION, dana, caseTypeCode="POTHOLE", title="Phoned in", requesterId="alice"
    )
    unnamed = await attempt(client, CREATE_CASE_MUTATION, dana, caseTypeCode="POTHOLE", title="Who?")
    unknown = await attempt(
        client, CREATE_CASE_MUTATION, dana, caseTypeCode="POTHOLE", title="Who?", requesterId="nobody"
    )
    foreign = await attempt(
        client, CREATE_CASE_MUTATION, dana, caseTypeCode="PAYMENT", title="Pay", requesterId="alice"
    )
    by_grace = await attempt(
        client, CREATE_CASE_MUTATION, token("outsider_agent"), caseTypeCode="PAYMENT", title="Pay", requesterId="alice"
    )
    by_finn = await attempt(
        client, CREATE_CASE_MUTATION, token("field_agent"), caseTypeCode="POTHOLE", title="Seen", requesterId="alice"
    )
    # then
    assert filed["case"]["requester"] == {"id": "alice"} and filed["event"]["actor"] == {"id": "dana"}
    assert await sees(client, alice, filed["case"]["id"])
    assert codes(unnamed) == ["VALIDATION_FAILED"] and unnamed["errors"][0]["field"] == "requesterId"
    assert codes(unknown) == ["VALIDATION_FAILED"] and unknown["errors"][0]["field"] == "requesterId"
    assert codes(foreign) == ["PERMISSION_DENIED"]
    assert by_grace["errors"] == [] and codes(by_finn) == ["PERMISSION_DENIED"]
    assert await event_count() == 2


async def test_constituent_always_files_for_themselves(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    alice, bob = token("requester"), token("other_constituent")
    # when
    for_bob = await attempt(
        client, CREATE_CASE_MUTATION, alice, caseTypeCode="QUESTION", title="For Bob", requesterId="bob"
    )
    for_self = await act(
        client, CREATE_CASE_MUTATION, alice, caseTypeCode="QUESTION", title="Mine", requesterId="alice"
    )
    # then
    assert codes(for_bob) == ["VALIDATION_FAILED"] and for_bob["errors"][0]["field"] == "requesterId"
    assert for_self["case"]["requester"] == {"id": "alice"}
    assert (await client.data(CASES_QUERY, token=bob))["cases"]["totalCount"] == 0
