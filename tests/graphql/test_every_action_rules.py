"""lifecycle.md *Every action, every time*: authorize, validate, check version, check transition,
then change the case and append exactly one event in one transaction, publishing only after commit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from casegraph.domain import lifecycle as lc
from casegraph.services.records import CaseRecord
from casegraph.settings import Settings
from tests.helpers import GraphQLClient, RecordingPublisher, World, case_row, event_count, insert_case

EVENT_FIELDS = "sequence type action version fromStage fromStatus toStage toStatus actor { id }"
PAYLOAD = f"case {{ id status stage version }} event {{ {EVENT_FIELDS} }} errors {{ code field }}"


def _case_mutation(field: str) -> str:
    name = field[0].upper() + field[1:]
    return f"mutation {name}($input: {name}Input!) {{ {field}(input: $input) {{ {PAYLOAD} }} }}"


CREATE_CASE_MUTATION = _case_mutation("createCase")
SUBMIT_CASE_MUTATION = _case_mutation("submitCase")
ASSIGN_CASE_MUTATION = _case_mutation("assignCase")
ACCEPT_CASE_MUTATION = _case_mutation("acceptCase")
ASSIGN_TO_ME_MUTATION = _case_mutation("assignToMe")
UPDATE_CASE_MUTATION = _case_mutation("updateCase")
BEGIN_REVIEW_MUTATION = _case_mutation("beginReview")
REQUEST_INFO_MUTATION = _case_mutation("requestInfo")
RESUME_CASE_MUTATION = _case_mutation("resumeCase")
REQUEST_INSPECTION_MUTATION = _case_mutation("requestInspection")
COMPLETE_INSPECTION_MUTATION = _case_mutation("completeInspection")
START_WORK_MUTATION = _case_mutation("startWork")
ASSIGN_WORK_MUTATION = _case_mutation("assignWork")
COMPLETE_WORK_MUTATION = _case_mutation("completeWork")
PROPOSE_SOLUTION_MUTATION = _case_mutation("proposeSolution")
ACCEPT_SOLUTION_MUTATION = _case_mutation("acceptSolution")
REJECT_SOLUTION_MUTATION = _case_mutation("rejectSolution")
CLOSE_CASE_MUTATION = _case_mutation("closeCase")
CANCEL_CASE_MUTATION = _case_mutation("cancelCase")
DELETE_CASE_MUTATION = _case_mutation("deleteCase")
SUBMIT_SURVEY_MUTATION = _case_mutation("submitSurvey")
RESTORE_CASE_MUTATION = _case_mutation("restoreCase")
COMPLETE_TASK_MUTATION = "mutation CompleteTask($input: CompleteTaskInput!) { completeTask(input: $input) { task { id state } errors { code field } } }"
CANCEL_TASK_MUTATION = "mutation CancelTask($input: CancelTaskInput!) { cancelTask(input: $input) { task { id state } errors { code field } } }"
TASKS_QUERY = "query Tasks($id: ID!) { case(id: $id) { tasks { id state } } }"
HISTORY_QUERY = "query History($id: ID!) { case(id: $id) { history { edges { node { sequence version } } } } }"

NOTES = {"resolutionCode": "SOLVED", "resolutionNotes": "Fixed."}
# One well-formed input per life-cycle mutation (besides caseId).
EVERY_ACTION: list[tuple[str, dict[str, Any]]] = [
    (SUBMIT_CASE_MUTATION, {}),
    (ASSIGN_CASE_MUTATION, {"assigneeId": "eli"}),
    (ACCEPT_CASE_MUTATION, {}),
    (ASSIGN_TO_ME_MUTATION, {}),
    (UPDATE_CASE_MUTATION, {"comment": "Hello"}),
    (BEGIN_REVIEW_MUTATION, {}),
    (REQUEST_INFO_MUTATION, {"question": "Where?"}),
    (RESUME_CASE_MUTATION, {}),
    (REQUEST_INSPECTION_MUTATION, {"inspectorId": "finn"}),
    (COMPLETE_INSPECTION_MUTATION, {"findings": "Deep."}),
    (START_WORK_MUTATION, {}),
    (ASSIGN_WORK_MUTATION, {"tasks": [{"title": "Fill"}]}),
    (COMPLETE_WORK_MUTATION, {}),
    (PROPOSE_SOLUTION_MUTATION, NOTES),
    (ACCEPT_SOLUTION_MUTATION, {}),
    (REJECT_SOLUTION_MUTATION, {"reason": "No."}),
    (CLOSE_CASE_MUTATION, {"resolutionNotes": "Done."}),
    (CANCEL_CASE_MUTATION, {"reason": "Dup."}),
    (DELETE_CASE_MUTATION, {}),
    (SUBMIT_SURVEY_MUTATION, {"rating": 5}),
]


@pytest.fixture
def token(world: World, settings: Settings) -> Callable[[str], str]:
    return lambda who: world.token(settings, who)


async def attempt(client: GraphQLClient, document: str, token: str, **fields: Any) -> dict[str, Any]:
    data = await client.data(document, {"input": fields}, token=token)
    payload: dict[str, Any] = next(iter(data.values()))
    return payload


def refused(payload: dict[str, Any]) -> str:
    """The single refusal code of a payload that changed nothing."""
    assert payload.get("case") is None and payload.get("event") is None, payload
    assert len(payload["errors"]) == 1, payload["errors"]
    return str(payload["errors"][0]["code"])


async def test_invisible_case_answers_not_found_to_every_outsider(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a roads case that bob, the benefits staff and the field agents have nothing to do with
    case = await insert_case(world, state=lc.INTAKE_OPEN)
    # when / then: whatever they try, with whatever input, it does not exist for them
    for document, fields in EVERY_ACTION:
        assert (
            refused(await attempt(client, document, token("other_constituent"), caseId=case.id, **fields))
            == "NOT_FOUND"
        )
    for outsider in ("outsider_agent", "outsider_manager", "field_agent", "other_field_agent"):
        for document, fields in EVERY_ACTION[4:6] + EVERY_ACTION[13:14]:
            assert refused(await attempt(client, document, token(outsider), caseId=case.id, **fields)) == "NOT_FOUND"
        sloppy = await attempt(
            client, REQUEST_INFO_MUTATION, token(outsider), caseId=case.id, question=" ", expectedVersion=9
        )
        assert refused(sloppy) == "NOT_FOUND"
    assert (await case_row(case.id)).version == 1 and await event_count(case.id) == 1


async def test_unknown_and_malformed_ids_answer_not_found(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await insert_case(world, state=lc.INTAKE_NEW)
    ids = [str(uuid.uuid4()), "not-a-uuid", "", "42", "'; DROP TABLE cases; --", "0" * 36, "x" * 5000]
    # when / then
    for case_id in ids:
        assert refused(await attempt(client, BEGIN_REVIEW_MUTATION, token("agent"), caseId=case_id)) == "NOT_FOUND"
        assert refused(await attempt(client, RESTORE_CASE_MUTATION, token("admin"), caseId=case_id)) == "NOT_FOUND"
    for task_id in ("999999", "abc", "-1", "1" * 40):
        payload = await attempt(client, COMPLETE_TASK_MUTATION, token("agent"), taskId=task_id)
        assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]


async def test_permission_denied_when_the_viewers_relation_is_not_listed(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given cases each of these people can see
    open_case = await insert_case(world, state=lc.INTAKE_OPEN)
    inspecting = await insert_case(world, state=lc.REVIEW_INSPECTION, inspector="field_agent")
    resolved = await insert_case(world, state=lc.RESOLVED)
    attempts = [
        ("requester", BEGIN_REVIEW_MUTATION, open_case, {}, None),
        ("requester", ASSIGN_CASE_MUTATION, open_case, {"assigneeId": "eli"}, None),
        ("requester", UPDATE_CASE_MUTATION, open_case, {"title": "Mine now"}, "title"),
        ("requester", UPDATE_CASE_MUTATION, open_case, {"workNote": "psst"}, "workNote"),
        ("other_agent", REQUEST_INFO_MUTATION, open_case, {"question": "Where?"}, None),
        ("other_agent", PROPOSE_SOLUTION_MUTATION, open_case, NOTES, None),
        ("other_agent", UPDATE_CASE_MUTATION, open_case, {"title": "Renamed"}, "title"),
        ("agent", ASSIGN_CASE_MUTATION, open_case, {"assigneeId": "eli"}, None),
        ("agent", CANCEL_CASE_MUTATION, open_case, {"reason": "Bored"}, None),
        ("field_agent", PROPOSE_SOLUTION_MUTATION, inspecting, NOTES, None),
        ("field_agent", UPDATE_CASE_MUTATION, inspecting, {"comment": "Seen it"}, None),
        ("agent", ACCEPT_SOLUTION_MUTATION, resolved, {}, None),
        ("manager", REJECT_SOLUTION_MUTATION, resolved, {"reason": "No"}, None),
    ]
    # when / then
    for who, document, case, fields, field in attempts:
        payload = await attempt(client, document, token(who), caseId=case.id, **fields)
        assert refused(payload) == "PERMISSION_DENIED", (who, document)
        if field is not None:
            assert payload["errors"][0]["field"] == field
    for case in (open_case, inspecting, resolved):
        assert await event_count(case.id) == 1


async def test_admin_takes_no_life_cycle_action(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a case the administrator can see
    case = await insert_case(world, state=lc.INTAKE_NEW, assigned_to=None)
    admin = token("admin")
    # when / then
    for document, fields in EVERY_ACTION:
        assert refused(await attempt(client, document, admin, caseId=case.id, **fields)) == "PERMISSION_DENIED", (
            document
        )
    filed = await attempt(
        client, CREATE_CASE_MUTATION, admin, caseTypeCode="POTHOLE", title="Hole", requesterId="alice"
    )
    assert refused(filed) == "PERMISSION_DENIED"
    assert await event_count() == 1


async def test_blank_mandatory_text_is_refused_naming_the_field(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    blank = "  \n\t "
    open_case = await insert_case(world, state=lc.INTAKE_OPEN)
    inspecting = await insert_case(world, state=lc.REVIEW_INSPECTION, inspector="field_agent")
    working = await insert_case(world, state=lc.PROCESS_WORK)
    resolved = await insert_case(world, state=lc.RESOLVED)
    attempts = [
        ("agent", REQUEST_INFO_MUTATION, open_case, {"question": blank}, "question"),
        (
            "agent",
            PROPOSE_SOLUTION_MUTATION,
            open_case,
            {"resolutionCode": "SOLVED", "resolutionNotes": blank},
            "resolutionNotes",
        ),
        ("agent", CLOSE_CASE_MUTATION, open_case, {"resolutionNotes": blank}, "resolutionNotes"),
        ("agent", CLOSE_CASE_MUTATION, open_case, {}, "resolutionNotes"),
        ("manager", CANCEL_CASE_MUTATION, open_case, {"reason": blank}, "reason"),
        ("manager", CANCEL_CASE_MUTATION, open_case, {}, "reason"),
        ("agent", UPDATE_CASE_MUTATION, open_case, {"title": blank}, "title"),
        ("agent", UPDATE_CASE_MUTATION, open_case, {"comment": blank}, "comment"),
        ("agent", UPDATE_CASE_MUTATION, open_case, {"workNote": blank}, "workNote"),
        ("field_agent", COMPLETE_INSPECTION_MUTATION, inspecting, {"findings": blank}, "findings"),
        ("requester", REJECT_SOLUTION_MUTATION, resolved, {"reason": blank}, "reason"),
    ]
    # when / then
    for who, document, case, fields, field in attempts:
        payload = await attempt(client, document, token(who), caseId=case.id, **fields)
        assert refused(payload) == "VALIDATION_FAILED" and payload["errors"][0]["field"] == field, (document, fields)
    work = await attempt(client, ASSIGN_WORK_MUTATION, token("agent"), caseId=working.id, tasks=[{"title": blank}])
    assert refused(work) == "VALIDATION_FAILED" and work["errors"][0]["field"].startswith("tasks")
    filed = await attempt(client, CREATE_CASE_MUTATION, token("requester"), caseTypeCode="POTHOLE", title=blank)
    assert refused(filed) == "VALIDATION_FAILED" and filed["errors"][0]["field"] == "title"
    assert await event_count() == 4


async def test_text_over_its_limit_is_refused_and_text_at_the_limit_accepted(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    alice, dana = token("requester"), token("agent")
    limits = [
        (UPDATE_CASE_MUTATION, "title", 200, {}),
        (UPDATE_CASE_MUTATION, "description", 20_000, {}),
        (UPDATE_CASE_MUTATION, "comment", 20_000, {}),
        (REQUEST_INFO_MUTATION, "question", 20_000, {}),
        (PROPOSE_SOLUTION_MUTATION, "resolutionNotes", 20_000, {"resolutionCode": "SOLVED"}),
    ]
    # when / then
    for document, field, limit, extra in limits:
        case = await insert_case(world, state=lc.INTAKE_OPEN)
        over = await attempt(client, document, dana, caseId=case.id, **extra, **{field: "x" * (limit + 1)})
        assert refused(over) == "VALIDATION_FAILED" and over["errors"][0]["field"] == field
        at = await attempt(client, document, dana, caseId=case.id, **extra, **{field: "x" * limit})
        assert at["errors"] == [] and at["case"]["version"] == 2, field
    too_long = await attempt(client, CREATE_CASE_MUTATION, alice, caseTypeCode="POTHOLE", title="t" * 201)
    assert refused(too_long) == "VALIDATION_FAILED" and too_long["errors"][0]["field"] == "title"
    exact = await attempt(
        client, CREATE_CASE_MUTATION, alice, caseTypeCode="POTHOLE", title="t" * 200, description="d" * 20_000
    )
    assert exact["errors"] == [] and exact["case"]["version"] == 1


async def test_expected_version_mismatch_is_a_conflict_that_changes_nothing(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # given
    case = await insert_case(world, state=lc.INTAKE_OPEN)
    dana = token("agent")
    # when
    stale = [await attempt(client, BEGIN_REVIEW_MUTATION, dana, caseId=case.id, expectedVersion=v) for v in (0, 2, -1)]
    fresh = await attempt(client, BEGIN_REVIEW_MUTATION, dana, caseId=case.id, expectedVersion=1)
    # then
    assert [refused(p) for p in stale] == ["VERSION_CONFLICT"] * 3
    assert fresh["errors"] == [] and fresh["case"]["version"] == 2
    assert len(publisher.events) == 1 and await event_count(case.id) == 2


async def test_checks_run_in_order_visibility_permission_validation_version_transition(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a closed case (every action below is also outside its from-states) and a new one
    closed = await insert_case(world, state=lc.CLOSED)
    new = await insert_case(world, state=lc.INTAKE_NEW)
    blank_notes = {"resolutionCode": "SOLVED", "resolutionNotes": " "}
    # when / then: each refusal is the earliest check that fails
    ladder: list[tuple[str, str, CaseRecord, dict[str, Any], str]] = [
        ("other_constituent", PROPOSE_SOLUTION_MUTATION, closed, {**blank_notes, "expectedVersion": 9}, "NOT_FOUND"),
        ("requester", PROPOSE_SOLUTION_MUTATION, closed, {**blank_notes, "expectedVersion": 9}, "PERMISSION_DENIED"),
        ("agent", PROPOSE_SOLUTION_MUTATION, closed, {**blank_notes, "expectedVersion": 9}, "VALIDATION_FAILED"),
        ("agent", PROPOSE_SOLUTION_MUTATION, closed, {**NOTES, "expectedVersion": 9}, "VERSION_CONFLICT"),
        ("agent", PROPOSE_SOLUTION_MUTATION, closed, {**NOTES, "expectedVersion": 1}, "TRANSITION_NOT_ALLOWED"),
        ("agent", REQUEST_INFO_MUTATION, new, {"question": "", "expectedVersion": 3}, "VALIDATION_FAILED"),
        ("agent", BEGIN_REVIEW_MUTATION, new, {"expectedVersion": 3}, "VERSION_CONFLICT"),
        ("agent", BEGIN_REVIEW_MUTATION, new, {"expectedVersion": 1}, "TRANSITION_NOT_ALLOWED"),
    ]
    for who, document, case, fields, code in ladder:
        assert refused(await attempt(client, document, token(who), caseId=case.id, **fields)) == code, (who, code)


async def test_actions_outside_their_from_states_are_not_allowed(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given (state, case type, who, mutation, input) the table does not allow
    table: list[tuple[lc.State, str, str, str, dict[str, Any]]] = [
        (lc.INTAKE_NEW, "POTHOLE", "agent", BEGIN_REVIEW_MUTATION, {}),
        (lc.INTAKE_OPEN, "POTHOLE", "agent", ACCEPT_CASE_MUTATION, {}),
        (lc.INTAKE_OPEN, "POTHOLE", "other_agent", ASSIGN_TO_ME_MUTATION, {}),
        (lc.INTAKE_OPEN, "QUESTION", "agent", BEGIN_REVIEW_MUTATION, {}),
        (lc.INTAKE_OPEN, "QUESTION", "agent", START_WORK_MUTATION, {}),
        (lc.INTAKE_OPEN, "POTHOLE", "requester", ACCEPT_SOLUTION_MUTATION, {}),
        (lc.REVIEW_OPEN, "POTHOLE", "agent", RESUME_CASE_MUTATION, {}),
        (lc.PROCESS_ASSIGNMENT, "POTHOLE", "agent", PROPOSE_SOLUTION_MUTATION, NOTES),
        (lc.PROCESS_WORK, "POTHOLE", "agent", DELETE_CASE_MUTATION, {}),
        (lc.REVIEW_INSPECTION, "POTHOLE", "agent", REQUEST_INFO_MUTATION, {"question": "Where?"}),
        (lc.RESOLVED, "POTHOLE", "agent", CLOSE_CASE_MUTATION, {"resolutionNotes": "Done"}),
        (lc.RESOLVED, "POTHOLE", "requester", CLOSE_CASE_MUTATION, {}),
        (lc.RESOLVED, "POTHOLE", "requester", CANCEL_CASE_MUTATION, {}),
        (lc.INTAKE_OPEN, "POTHOLE", "requester", DELETE_CASE_MUTATION, {}),
        # the requester's UPDATE grant is listed, so outside its statuses it is the status that refuses
        (lc.RESOLVED, "POTHOLE", "requester", UPDATE_CASE_MUTATION, {"comment": "Hm"}),
        (lc.RESOLVED, "POTHOLE", "requester", UPDATE_CASE_MUTATION, {"description": "More"}),
        (lc.CLOSED, "POTHOLE", "requester", UPDATE_CASE_MUTATION, {"comment": "Thanks"}),
        (lc.CLOSED, "POTHOLE", "agent", UPDATE_CASE_MUTATION, {"comment": "Late"}),
        (lc.CLOSED, "POTHOLE", "requester", SUBMIT_SURVEY_MUTATION, {"rating": 3}),
        (lc.CANCELLED, "QUESTION", "manager", CANCEL_CASE_MUTATION, {"reason": "Again"}),
    ]
    # when / then
    for state, case_type, who, document, fields in table:
        case = await insert_case(world, state=state, case_type=case_type)
        assert (
            refused(await attempt(client, document, token(who), caseId=case.id, **fields)) == "TRANSITION_NOT_ALLOWED"
        ), (state, who, document)
        assert (await case_row(case.id)).version == 1 and await event_count(case.id) == 1


async def test_complete_work_is_not_allowed_while_a_task_is_open(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given work ordered in two tasks, one of them finished
    dana = token("agent")
    case = await insert_case(world, state=lc.PROCESS_WORK)
    await attempt(client, ASSIGN_WORK_MUTATION, dana, caseId=case.id, tasks=[{"title": "Fill"}, {"title": "Paint"}])
    tasks = (await client.data(TASKS_QUERY, {"id": case.id}, token=dana))["case"]["tasks"]
    assert (await attempt(client, COMPLETE_TASK_MUTATION, dana, taskId=tasks[0]["id"]))["errors"] == []
    # when
    early = await attempt(client, COMPLETE_WORK_MUTATION, dana, caseId=case.id)
    await attempt(client, CANCEL_TASK_MUTATION, dana, taskId=tasks[1]["id"], reason="Not needed")
    settled = await attempt(client, COMPLETE_WORK_MUTATION, dana, caseId=case.id)
    # then
    assert refused(early) == "TRANSITION_NOT_ALLOWED"
    assert settled["errors"] == [] and settled["case"]["status"] == "READY_FOR_DECISION"
    again = await attempt(client, CANCEL_TASK_MUTATION, dana, taskId=tasks[0]["id"], reason="Oops")
    assert [e["code"] for e in again["errors"]] == ["TRANSITION_NOT_ALLOWED"]


async def test_refused_actions_record_and_publish_nothing(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # given
    case = await insert_case(world, state=lc.INTAKE_OPEN)
    before = await case_row(case.id)
    # when one refusal of every kind
    codes = [
        refused(await attempt(client, BEGIN_REVIEW_MUTATION, token("other_constituent"), caseId=case.id)),
        refused(await attempt(client, BEGIN_REVIEW_MUTATION, token("requester"), caseId=case.id)),
        refused(await attempt(client, REQUEST_INFO_MUTATION, token("agent"), caseId=case.id, question="")),
        refused(await attempt(client, BEGIN_REVIEW_MUTATION, token("agent"), caseId=case.id, expectedVersion=4)),
        refused(await attempt(client, ACCEPT_CASE_MUTATION, token("agent"), caseId=case.id)),
    ]
    # then
    assert codes == [
        "NOT_FOUND",
        "PERMISSION_DENIED",
        "VALIDATION_FAILED",
        "VERSION_CONFLICT",
        "TRANSITION_NOT_ALLOWED",
    ]
    after = await case_row(case.id)
    assert (after.version, after.state, after.updated_at, after.remembered) == (
        before.version,
        before.state,
        before.updated_at,
        before.remembered,
    )
    assert await event_count(case.id) == 1 and publisher.events == []


async def test_each_success_bumps_version_by_one_and_appends_one_event(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # given
    case = await insert_case(world, state=lc.INTAKE_NEW, assigned_to=None)
    steps = [
        ("manager", ASSIGN_CASE_MUTATION, {"assigneeId": "dana"}, "ASSIGN", "CASE_UPDATED", "NEW"),
        ("agent", ACCEPT_CASE_MUTATION, {}, "ACCEPT", "CASE_TRANSITIONED", "OPEN"),
        ("other_agent", UPDATE_CASE_MUTATION, {"workNote": "Seen it"}, "UPDATE", "CASE_UPDATED", "OPEN"),
        ("agent", REQUEST_INFO_MUTATION, {"question": "Size?"}, "REQUEST_INFO", "CASE_TRANSITIONED", "AWAITING_INFO"),
        ("agent", RESUME_CASE_MUTATION, {}, "RESUME", "CASE_TRANSITIONED", "OPEN"),
    ]
    # when / then
    version, status = 1, "NEW"
    for who, document, fields, action, event_type, to_status in steps:
        events_before = await event_count(case.id)
        payload = await attempt(client, document, token(who), caseId=case.id, expectedVersion=version, **fields)
        event = payload["event"]
        assert payload["errors"] == [] and payload["case"]["version"] == version + 1
        assert (event["action"], event["type"], event["version"], event["actor"]["id"]) == (
            action,
            event_type,
            version + 1,
            world.sub(who),
        )
        assert (event["fromStatus"], event["toStatus"]) == (status, to_status)
        assert await event_count(case.id) == events_before + 1
        assert publisher.events[-1].sequence == event["sequence"]
        version, status = version + 1, to_status
    assert len(publisher.events) == len(steps)


async def test_create_case_starts_at_version_one_with_one_created_event(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # when
    payload = await attempt(
        client, CREATE_CASE_MUTATION, token("requester"), caseTypeCode="QUESTION", title="Opening hours?"
    )
    # then
    assert payload["errors"] == [] and payload["case"]["version"] == 1
    assert payload["event"] == {
        "sequence": payload["event"]["sequence"],
        "type": "CASE_CREATED",
        "action": "CREATE",
        "version": 1,
        "fromStage": None,
        "fromStatus": None,
        "toStage": "INTAKE",
        "toStatus": "NEW",
        "actor": {"id": "alice"},
    }
    assert await event_count(payload["case"]["id"]) == 1
    assert [e.sequence for e in publisher.events] == [payload["event"]["sequence"]]


async def test_racing_actions_have_one_winner_and_publish_only_its_event(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # given
    guarded = await insert_case(world, state=lc.INTAKE_OPEN)
    unassigned = await insert_case(world, state=lc.INTAKE_NEW, assigned_to=None)
    # when
    versioned = await asyncio.gather(
        attempt(client, BEGIN_REVIEW_MUTATION, token("agent"), caseId=guarded.id, expectedVersion=1),
        attempt(
            client, REQUEST_INFO_MUTATION, token("manager"), caseId=guarded.id, expectedVersion=1, question="Where?"
        ),
    )
    grabs = await asyncio.gather(
        attempt(client, ASSIGN_TO_ME_MUTATION, token("agent"), caseId=unassigned.id),
        attempt(client, ASSIGN_TO_ME_MUTATION, token("other_agent"), caseId=unassigned.id),
    )
    # then
    for results, loser_code in ((versioned, "VERSION_CONFLICT"), (grabs, "TRANSITION_NOT_ALLOWED")):
        winners = [r for r in results if r["errors"] == []]
        losers = [r for r in results if r["errors"] != []]
        assert len(winners) == 1 and [refused(r) for r in losers] == [loser_code]
        assert winners[0]["case"]["version"] == 2
    assert await event_count(guarded.id) == 2 and await event_count(unassigned.id) == 2
    assert sorted(e.sequence for e in publisher.events) == sorted(
        r["event"]["sequence"] for r in (*versioned, *grabs) if r["event"]
    )


async def test_event_sequences_strictly_increase_in_commit_order(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # given
    alice, dana = token("requester"), token("agent")
    first = (await attempt(client, CREATE_CASE_MUTATION, alice, caseTypeCode="POTHOLE", title="One"))["case"]["id"]
    second = (await attempt(client, CREATE_CASE_MUTATION, alice, caseTypeCode="QUESTION", title="Two"))["case"]["id"]
    # when actions alternate between the cases, some of them concurrently
    for case_id in (first, second):
        await attempt(client, ASSIGN_TO_ME_MUTATION, dana, caseId=case_id)
    await asyncio.gather(
        *(
            attempt(client, UPDATE_CASE_MUTATION, alice, caseId=c, comment=f"Note {n}")
            for n in range(3)
            for c in (first, second)
        )
    )
    # then: within a case, later versions carry higher sequences; no sequence is used twice
    logged: list[int] = []
    for case_id in (first, second):
        events = (await client.data(HISTORY_QUERY, {"id": case_id}, token=alice))["case"]["history"]["edges"]
        assert [e["node"]["version"] for e in events] == [1, 2, 3, 4, 5]
        sequences = [e["node"]["sequence"] for e in events]
        assert all(a < b for a, b in zip(sequences, sequences[1:]))
        logged.extend(sequences)
    assert len(set(logged)) == 10
    # and exactly the committed events were published (delivery order is the subscription feed's concern)
    assert sorted(e.sequence for e in publisher.events) == sorted(logged)
