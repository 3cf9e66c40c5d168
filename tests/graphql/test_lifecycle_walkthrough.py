"""Whole life cycles over GraphQL: every stage of both workflows, from filing to the survey.

lifecycle.md *Actions* and *Two workflows*: each step is one mutation by the person the table names;
the history must then list every event oldest first, each continuing where the last one ended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from casegraph.settings import Settings
from tests.helpers import GraphQLClient, RecordingPublisher, World

CASE_FIELDS = "id number status stage version reopenCount resolutionCode assignedTo { id } inspector { id }"
EVENT_FIELDS = "sequence type action version fromStage fromStatus toStage toStatus actor { id }"
PAYLOAD = f"case {{ {CASE_FIELDS} }} event {{ {EVENT_FIELDS} }} errors {{ code field }}"


def _case_mutation(field: str) -> str:
    name = field[0].upper() + field[1:]
    return f"mutation {name}($input: {name}Input!) {{ {field}(input: $input) {{ {PAYLOAD} }} }}"


CREATE_CASE_MUTATION = _case_mutation("createCase")
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
SUBMIT_SURVEY_MUTATION = _case_mutation("submitSurvey")

TASK_PAYLOAD = f"task {{ id title state note assignee {{ id }} }} case {{ {CASE_FIELDS} }} event {{ {EVENT_FIELDS} }} errors {{ code field }}"
COMPLETE_TASK_MUTATION = (
    f"mutation CompleteTask($input: CompleteTaskInput!) {{ completeTask(input: $input) {{ {TASK_PAYLOAD} }} }}"
)
CANCEL_TASK_MUTATION = (
    f"mutation CancelTask($input: CancelTaskInput!) {{ cancelTask(input: $input) {{ {TASK_PAYLOAD} }} }}"
)

AVAILABLE_ACTIONS_QUERY = "query AvailableActions($id: ID!) { case(id: $id) { availableActions } }"
CASE_DETAIL_QUERY = """
query CaseDetail($id: ID!) {
  case(id: $id) {
    status stage version reopenCount inspectionFindings
    tasks { id title state assignee { id } }
    survey { rating comment }
    comments { body author { id } }
  }
}
"""
HISTORY_QUERY = f"""
query History($id: ID!) {{
  case(id: $id) {{ history(first: 100) {{ totalCount edges {{ node {{ {EVENT_FIELDS} }} }} }} }}
}}
"""


@pytest.fixture
def token(world: World, settings: Settings) -> Callable[[str], str]:
    return lambda who: world.token(settings, who)


async def act(client: GraphQLClient, document: str, token: str, **fields: Any) -> dict[str, Any]:
    """Run one mutation; it must succeed (no user errors)."""
    data = await client.data(document, {"input": fields}, token=token)
    payload: dict[str, Any] = next(iter(data.values()))
    assert payload["errors"] == [], payload["errors"]
    return payload


async def actions_for(client: GraphQLClient, case_id: str, token: str) -> set[str]:
    data = await client.data(AVAILABLE_ACTIONS_QUERY, {"id": case_id}, token=token)
    return set(data["case"]["availableActions"])


async def history(client: GraphQLClient, case_id: str, token: str) -> list[dict[str, Any]]:
    data = await client.data(HISTORY_QUERY, {"id": case_id}, token=token)
    connection = data["case"]["history"]
    assert connection["totalCount"] == len(connection["edges"])
    return [edge["node"] for edge in connection["edges"]]


def assert_consistent_history(events: list[dict[str, Any]], steps: list[tuple[str, str, str]]) -> None:
    """Oldest first; versions 1..n; each event starts where the previous one ended."""
    assert [(e["action"], e["actor"]["id"], e["toStatus"]) for e in events] == steps
    assert [e["version"] for e in events] == list(range(1, len(steps) + 1))
    sequences = [e["sequence"] for e in events]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    assert events[0]["type"] == "CASE_CREATED" and events[0]["fromStatus"] is None
    for before, after in zip(events, events[1:]):
        assert (after["fromStage"], after["fromStatus"]) == (before["toStage"], before["toStatus"])
        moved = (after["fromStage"], after["fromStatus"]) != (after["toStage"], after["toStatus"])
        assert after["type"] == ("CASE_TRANSITIONED" if moved else "CASE_UPDATED")


async def test_public_service_case_goes_through_every_stage_to_a_surveyed_close(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # given a constituent's pothole report
    alice, dana, eli, maria, finn = (token(w) for w in ("requester", "agent", "other_agent", "manager", "field_agent"))
    created = await act(
        client,
        CREATE_CASE_MUTATION,
        alice,
        caseTypeCode="POTHOLE",
        title="Pothole on Elm Street",
        description="Deep.",
        impact=2,
        urgency=2,
    )
    case_id = created["case"]["id"]
    assert (created["case"]["stage"], created["case"]["status"], created["case"]["version"]) == ("INTAKE", "NEW", 1)
    assert await actions_for(client, case_id, maria) == {
        "ASSIGN",
        "ASSIGN_TO_ME",
        "UPDATE",
        "CLOSE",
        "CANCEL",
        "DELETE",
        "REFER",
        "LINK_ARTICLE",
        "SPLIT_CASE",
    }
    assert await actions_for(client, case_id, dana) == {"ASSIGN_TO_ME", "UPDATE", "LINK_ARTICLE"}
    assert await actions_for(client, case_id, alice) == {"UPDATE", "CLOSE", "CANCEL"}

    # when the manager assigns it and the agent accepts
    assigned = await act(client, ASSIGN_CASE_MUTATION, maria, caseId=case_id, assigneeId="dana")
    assert assigned["case"]["status"] == "NEW" and assigned["case"]["assignedTo"] == {"id": "dana"}
    assert await actions_for(client, case_id, dana) >= {"ACCEPT", "UPDATE", "DELETE"}
    accepted = await act(client, ACCEPT_CASE_MUTATION, dana, caseId=case_id)
    assert (accepted["case"]["stage"], accepted["case"]["status"]) == ("INTAKE", "OPEN")

    # and reviews it, asking the requester for more information, which she gives
    reviewed = await act(client, BEGIN_REVIEW_MUTATION, dana, caseId=case_id)
    assert (reviewed["case"]["stage"], reviewed["case"]["status"]) == ("REVIEW", "OPEN")
    asked = await act(client, REQUEST_INFO_MUTATION, dana, caseId=case_id, question="Which side of the street?")
    assert (asked["case"]["stage"], asked["case"]["status"]) == ("REVIEW", "AWAITING_INFO")
    assert await actions_for(client, case_id, alice) == {"UPDATE", "CLOSE", "CANCEL"}
    answered = await act(client, UPDATE_CASE_MUTATION, alice, caseId=case_id, comment="North side, by the bakery.")
    assert (answered["case"]["stage"], answered["case"]["status"]) == ("REVIEW", "OPEN")
    assert answered["event"]["type"] == "CASE_TRANSITIONED" and answered["event"]["action"] == "UPDATE"

    # and has it inspected by the field agent
    inspecting = await act(client, REQUEST_INSPECTION_MUTATION, dana, caseId=case_id, inspectorId="finn")
    assert inspecting["case"]["status"] == "INSPECTION_IN_PROGRESS" and inspecting["case"]["inspector"] == {
        "id": "finn"
    }
    assert await actions_for(client, case_id, finn) == {"COMPLETE_INSPECTION"}
    inspected = await act(client, COMPLETE_INSPECTION_MUTATION, finn, caseId=case_id, findings="40 cm wide, 10 deep.")
    assert (inspected["case"]["stage"], inspected["case"]["status"]) == ("PROCESS", "WORK_IN_PROGRESS")

    # and orders the work in two tasks, one finished and one cancelled by their assignees
    ordered = await act(
        client,
        ASSIGN_WORK_MUTATION,
        dana,
        caseId=case_id,
        tasks=[{"title": "Fill the hole", "assigneeId": "finn"}, {"title": "Repaint lines", "assigneeId": "eli"}],
    )
    assert ordered["case"]["status"] == "WORK_ASSIGNMENT_IN_PROGRESS"
    offered = await actions_for(client, case_id, dana)
    assert "COMPLETE_WORK" not in offered and "PROPOSE_SOLUTION" not in offered
    tasks = (await client.data(CASE_DETAIL_QUERY, {"id": case_id}, token=dana))["case"]["tasks"]
    assert [(t["title"], t["state"], t["assignee"]["id"]) for t in tasks] == [
        ("Fill the hole", "OPEN", "finn"),
        ("Repaint lines", "OPEN", "eli"),
    ]
    done = await act(client, COMPLETE_TASK_MUTATION, finn, taskId=tasks[0]["id"], note="Filled.")
    assert done["task"]["state"] == "DONE" and done["event"]["action"] == "COMPLETE_TASK"
    dropped = await act(client, CANCEL_TASK_MUTATION, eli, taskId=tasks[1]["id"], reason="Lines are fine.")
    assert dropped["task"]["state"] == "CANCELLED" and dropped["event"]["action"] == "CANCEL_TASK"
    assert "COMPLETE_WORK" in await actions_for(client, case_id, dana)
    completed = await act(client, COMPLETE_WORK_MUTATION, dana, caseId=case_id)
    assert (completed["case"]["stage"], completed["case"]["status"]) == ("DECISION", "READY_FOR_DECISION")

    # and proposes a solution, which the requester rejects once, then accepts
    await act(
        client, PROPOSE_SOLUTION_MUTATION, dana, caseId=case_id, resolutionCode="SOLVED", resolutionNotes="Filled."
    )
    assert await actions_for(client, case_id, alice) == {"ACCEPT_SOLUTION", "REJECT_SOLUTION", "DELETE"}
    rejected = await act(client, REJECT_SOLUTION_MUTATION, alice, caseId=case_id, reason="Still a dip.")
    assert (rejected["case"]["stage"], rejected["case"]["status"], rejected["case"]["reopenCount"]) == (
        "REVIEW",
        "OPEN",
        1,
    )
    assert rejected["case"]["resolutionCode"] is None
    again = await act(
        client, PROPOSE_SOLUTION_MUTATION, dana, caseId=case_id, resolutionCode="SOLVED", resolutionNotes="Levelled."
    )
    assert again["case"]["status"] == "RESOLVED" and again["case"]["resolutionCode"] == "SOLVED"
    closed = await act(client, ACCEPT_SOLUTION_MUTATION, alice, caseId=case_id)
    assert (closed["case"]["stage"], closed["case"]["status"]) == ("DECISION", "CLOSED")
    assert await actions_for(client, case_id, alice) == {"SUBMIT_SURVEY"}
    assert await actions_for(client, case_id, dana) == set()
    surveyed = await act(client, SUBMIT_SURVEY_MUTATION, alice, caseId=case_id, rating=4, comment="Quick, thanks.")

    # then
    assert surveyed["case"]["status"] == "CLOSED" and surveyed["event"]["type"] == "CASE_UPDATED"
    assert await actions_for(client, case_id, alice) == set()
    detail = (await client.data(CASE_DETAIL_QUERY, {"id": case_id}, token=alice))["case"]
    assert detail["survey"] == {"rating": 4, "comment": "Quick, thanks."}
    assert detail["reopenCount"] == 1 and detail["version"] == 17
    assert [c["body"] for c in detail["comments"]] == [
        "Which side of the street?",
        "North side, by the bakery.",
        "Still a dip.",
    ]
    events = await history(client, case_id, alice)
    assert_consistent_history(
        events,
        [
            ("CREATE", "alice", "NEW"),
            ("ASSIGN", "maria", "NEW"),
            ("ACCEPT", "dana", "OPEN"),
            ("BEGIN_REVIEW", "dana", "OPEN"),
            ("REQUEST_INFO", "dana", "AWAITING_INFO"),
            ("UPDATE", "alice", "OPEN"),
            ("REQUEST_INSPECTION", "dana", "INSPECTION_IN_PROGRESS"),
            ("COMPLETE_INSPECTION", "finn", "WORK_IN_PROGRESS"),
            ("ASSIGN_WORK", "dana", "WORK_ASSIGNMENT_IN_PROGRESS"),
            ("COMPLETE_TASK", "finn", "WORK_ASSIGNMENT_IN_PROGRESS"),
            ("CANCEL_TASK", "eli", "WORK_ASSIGNMENT_IN_PROGRESS"),
            ("COMPLETE_WORK", "dana", "READY_FOR_DECISION"),
            ("PROPOSE_SOLUTION", "dana", "RESOLVED"),
            ("REJECT_SOLUTION", "alice", "OPEN"),
            ("PROPOSE_SOLUTION", "dana", "RESOLVED"),
            ("ACCEPT_SOLUTION", "alice", "CLOSED"),
            ("SUBMIT_SURVEY", "alice", "CLOSED"),
        ],
    )
    assert [e["toStage"] for e in events] == [
        "INTAKE",
        "INTAKE",
        "INTAKE",
        "REVIEW",
        "REVIEW",
        "REVIEW",
        "REVIEW",
        "PROCESS",
        "PROCESS",
        "PROCESS",
        "PROCESS",
        "DECISION",
        "DECISION",
        "REVIEW",
        "DECISION",
        "DECISION",
        "DECISION",
    ]
    assert [e.sequence for e in publisher.events] == [e["sequence"] for e in events]


async def test_customer_service_case_goes_from_new_to_a_surveyed_close(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a constituent's question, taken by a group agent
    alice, eli = token("requester"), token("other_agent")
    created = await act(client, CREATE_CASE_MUTATION, alice, caseTypeCode="QUESTION", title="Permit for a skip?")
    case_id = created["case"]["id"]
    taken = await act(client, ASSIGN_TO_ME_MUTATION, eli, caseId=case_id)
    assert (taken["case"]["stage"], taken["case"]["status"], taken["case"]["assignedTo"]) == (
        "INTAKE",
        "OPEN",
        {"id": "eli"},
    )
    offered = await actions_for(client, case_id, eli)
    assert {"REQUEST_INFO", "PROPOSE_SOLUTION", "CLOSE", "UPDATE"} <= offered
    assert offered.isdisjoint({"BEGIN_REVIEW", "START_WORK", "REQUEST_INSPECTION", "ASSIGN_WORK"})

    # when the agent asks twice (resuming once herself, once answered by the requester)
    asked = await act(client, REQUEST_INFO_MUTATION, eli, caseId=case_id, question="How big is the skip?")
    assert (asked["case"]["stage"], asked["case"]["status"]) == ("INTAKE", "AWAITING_INFO")
    resumed = await act(client, RESUME_CASE_MUTATION, eli, caseId=case_id)
    assert (resumed["case"]["stage"], resumed["case"]["status"]) == ("INTAKE", "OPEN")
    await act(client, REQUEST_INFO_MUTATION, eli, caseId=case_id, question="Where will it stand?")
    answered = await act(
        client, UPDATE_CASE_MUTATION, alice, caseId=case_id, description="Outside no. 12.", comment="On the road."
    )
    assert (answered["case"]["stage"], answered["case"]["status"]) == ("INTAKE", "OPEN")

    # and proposes a solution that is rejected, then accepted and rated
    await act(
        client,
        PROPOSE_SOLUTION_MUTATION,
        eli,
        caseId=case_id,
        resolutionCode="SOLVED_WORKAROUND",
        resolutionNotes="Use the online form.",
    )
    rejected = await act(client, REJECT_SOLUTION_MUTATION, alice, caseId=case_id, reason="The form is broken.")
    assert (rejected["case"]["stage"], rejected["case"]["status"], rejected["case"]["reopenCount"]) == (
        "INTAKE",
        "OPEN",
        1,
    )
    await act(
        client,
        PROPOSE_SOLUTION_MUTATION,
        eli,
        caseId=case_id,
        resolutionCode="SOLVED",
        resolutionNotes="Permit issued.",
    )
    await act(client, ACCEPT_SOLUTION_MUTATION, alice, caseId=case_id)
    await act(client, SUBMIT_SURVEY_MUTATION, alice, caseId=case_id, rating=5)

    # then
    detail = (await client.data(CASE_DETAIL_QUERY, {"id": case_id}, token=alice))["case"]
    assert (detail["stage"], detail["status"], detail["version"]) == ("DECISION", "CLOSED", 11)
    assert detail["survey"] == {"rating": 5, "comment": None}
    assert_consistent_history(
        await history(client, case_id, eli),
        [
            ("CREATE", "alice", "NEW"),
            ("ASSIGN_TO_ME", "eli", "OPEN"),
            ("REQUEST_INFO", "eli", "AWAITING_INFO"),
            ("RESUME", "eli", "OPEN"),
            ("REQUEST_INFO", "eli", "AWAITING_INFO"),
            ("UPDATE", "alice", "OPEN"),
            ("PROPOSE_SOLUTION", "eli", "RESOLVED"),
            ("REJECT_SOLUTION", "alice", "OPEN"),
            ("PROPOSE_SOLUTION", "eli", "RESOLVED"),
            ("ACCEPT_SOLUTION", "alice", "CLOSED"),
            ("SUBMIT_SURVEY", "alice", "CLOSED"),
        ],
    )


async def test_answer_in_process_stage_returns_case_to_work_in_progress(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a pothole in review, worked on without inspection
    alice, maria = token("requester"), token("manager")
    case_id = (await act(client, CREATE_CASE_MUTATION, alice, caseTypeCode="POTHOLE", title="Sunken drain"))["case"][
        "id"
    ]
    await act(client, ASSIGN_TO_ME_MUTATION, maria, caseId=case_id)
    await act(client, BEGIN_REVIEW_MUTATION, maria, caseId=case_id)
    working = await act(client, START_WORK_MUTATION, maria, caseId=case_id)
    assert (working["case"]["stage"], working["case"]["status"]) == ("PROCESS", "WORK_IN_PROGRESS")
    # when
    asked = await act(client, REQUEST_INFO_MUTATION, maria, caseId=case_id, question="Is it still flooding?")
    answered = await act(client, UPDATE_CASE_MUTATION, alice, caseId=case_id, contactPhone="+32 470 12 34 56")
    resolved = await act(
        client,
        PROPOSE_SOLUTION_MUTATION,
        maria,
        caseId=case_id,
        resolutionCode="SOLVED",
        resolutionNotes="Drain cleared.",
    )
    # then
    assert (asked["case"]["stage"], asked["case"]["status"]) == ("PROCESS", "AWAITING_INFO")
    assert (answered["case"]["stage"], answered["case"]["status"]) == ("PROCESS", "WORK_IN_PROGRESS")
    assert (resolved["event"]["fromStatus"], resolved["event"]["toStage"], resolved["event"]["toStatus"]) == (
        "WORK_IN_PROGRESS",
        "DECISION",
        "RESOLVED",
    )


async def test_staff_close_and_manager_cancel_end_cases_in_decision(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given two open questions assigned to dana
    alice, dana, maria = token("requester"), token("agent"), token("manager")
    first = (await act(client, CREATE_CASE_MUTATION, alice, caseTypeCode="QUESTION", title="Bin day?"))["case"]["id"]
    second = (await act(client, CREATE_CASE_MUTATION, alice, caseTypeCode="QUESTION", title="Noise"))["case"]["id"]
    for case_id in (first, second):
        await act(client, ASSIGN_TO_ME_MUTATION, dana, caseId=case_id)
    # when
    closed = await act(client, CLOSE_CASE_MUTATION, dana, caseId=first, resolutionNotes="Answered by phone.")
    cancelled = await act(client, CANCEL_CASE_MUTATION, maria, caseId=second, reason="Duplicate of a police report.")
    # then
    assert (closed["case"]["stage"], closed["case"]["status"], closed["event"]["action"]) == (
        "DECISION",
        "CLOSED",
        "CLOSE",
    )
    assert (cancelled["case"]["stage"], cancelled["case"]["status"]) == ("DECISION", "CANCELLED")
    assert await actions_for(client, first, alice) == set()
    assert await actions_for(client, second, maria) == set()
