"""Playbooks over GraphQL (issue 4, *Playbooks*): a case type's checklist per stage, each case's
copy with progress, steps ticked off and reopened as recorded COMPLETE_STEP events, and a stage
that cannot be left while its required steps are open (when the case type enforces it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from casegraph.settings import Settings
from tests.helpers import GraphQLClient, RecordingPublisher, World, event_count

SET_PLAYBOOK_MUTATION = """
mutation SetPlaybook($input: SetPlaybookInput!) {
  setPlaybook(input: $input) {
    caseType { code playbook { enforceRequiredSteps steps { stage position title required } } }
    errors { code field }
  }
}
"""
STEP_FIELDS = "id stage position title required done doneAt doneBy { id }"
PLAYBOOK_FIELDS = f"""playbook {{ enforceRequiredSteps total done requiredOpen
    stages {{ stage current total done requiredOpen steps {{ {STEP_FIELDS} }} }} }}"""
STEP_PAYLOAD = f"""step {{ {STEP_FIELDS} }} case {{ id version status }}
    event {{ type action version details actor {{ id }} }} errors {{ code field }}"""
COMPLETE_STEP_MUTATION = f"""
mutation CompleteStep($input: CompleteStepInput!) {{ completeStep(input: $input) {{ {STEP_PAYLOAD} }} }}
"""
REOPEN_STEP_MUTATION = f"""
mutation ReopenStep($input: ReopenStepInput!) {{ reopenStep(input: $input) {{ {STEP_PAYLOAD} }} }}
"""
CASE_QUERY = f"query Case($id: ID!) {{ case(id: $id) {{ id status stage version {PLAYBOOK_FIELDS} }} }}"
CASE_TYPES_QUERY = "query CaseTypes { caseTypes { code playbook { enforceRequiredSteps } } }"
HISTORY_QUERY = "query History($id: ID!) { case(id: $id) { history { edges { node { action type details } } } } }"


def _case_mutation(field: str) -> str:
    name = field[0].upper() + field[1:]
    return (
        f"mutation {name}($input: {name}Input!) {{ {field}(input: $input) "
        "{ case { id stage status version } errors { code field } } }"
    )


CREATE_CASE_MUTATION = _case_mutation("createCase")
SUBMIT_CASE_MUTATION = _case_mutation("submitCase")
ASSIGN_TO_ME_MUTATION = _case_mutation("assignToMe")
BEGIN_REVIEW_MUTATION = _case_mutation("beginReview")
START_WORK_MUTATION = _case_mutation("startWork")
PROPOSE_SOLUTION_MUTATION = _case_mutation("proposeSolution")
CLOSE_CASE_MUTATION = _case_mutation("closeCase")
CANCEL_CASE_MUTATION = _case_mutation("cancelCase")
SPLIT_CASE_MUTATION = _case_mutation("splitCase")

POTHOLE_STEPS = [
    {"stage": "INTAKE", "title": "Verify the location", "required": True},
    {"stage": "INTAKE", "title": "Call the requester", "required": False},
    {"stage": "REVIEW", "title": "Photograph the damage"},
    {"stage": "PROCESS", "title": "Fill the hole"},
]


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


async def set_playbook(client: GraphQLClient, admin: str, enforce: bool = True, **extra: Any) -> None:
    await act(
        client,
        SET_PLAYBOOK_MUTATION,
        admin,
        caseTypeCode="POTHOLE",
        steps=POTHOLE_STEPS,
        enforceRequiredSteps=enforce,
        **extra,
    )


async def taken_case(client: GraphQLClient, token: Callable[[str], str]) -> str:
    """Alice's pothole, taken by Dana: INTAKE/OPEN."""
    case_id: str = (
        await act(client, CREATE_CASE_MUTATION, token("requester"), caseTypeCode="POTHOLE", title="Pothole on Elm St")
    )["case"]["id"]
    await act(client, ASSIGN_TO_ME_MUTATION, token("agent"), caseId=case_id)
    return case_id


async def playbook(client: GraphQLClient, token: str, case_id: str) -> dict[str, Any]:
    case: dict[str, Any] = (await client.data(CASE_QUERY, {"id": case_id}, token=token))["case"]
    return case


def step_id(case: dict[str, Any], title: str) -> str:
    for stage in case["playbook"]["stages"]:
        for step in stage["steps"]:
            if step["title"] == title:
                return str(step["id"])
    raise AssertionError(title)


async def test_admin_sets_a_playbook_that_the_case_type_shows_in_order(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # when
    payload = await act(
        client,
        SET_PLAYBOOK_MUTATION,
        token("admin"),
        caseTypeCode="POTHOLE",
        steps=[POTHOLE_STEPS[2], *POTHOLE_STEPS[:2]],
    )
    # then: ordered by stage, then as given within a stage; required unless said otherwise
    assert payload["caseType"]["playbook"] == {
        "enforceRequiredSteps": True,
        "steps": [
            {"stage": "INTAKE", "position": 1, "title": "Verify the location", "required": True},
            {"stage": "INTAKE", "position": 2, "title": "Call the requester", "required": False},
            {"stage": "REVIEW", "position": 1, "title": "Photograph the damage", "required": True},
        ],
    }
    # and an empty list removes it
    removed = await act(client, SET_PLAYBOOK_MUTATION, token("admin"), caseTypeCode="POTHOLE", steps=[])
    assert removed["caseType"]["playbook"] is None


@pytest.mark.parametrize("who", ["agent", "manager", "requester"])
async def test_only_an_administrator_sets_playbooks(
    client: GraphQLClient, world: World, token: Callable[[str], str], who: str
) -> None:
    # when
    payload = await attempt(client, SET_PLAYBOOK_MUTATION, token(who), caseTypeCode="POTHOLE", steps=POTHOLE_STEPS)
    # then
    assert codes(payload) == ["PERMISSION_DENIED"]


async def test_playbook_steps_must_fit_the_workflow_and_have_titles(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    admin = token("admin")
    # when / then: the customer-service workflow has no REVIEW stage; DRAFT holds no steps
    review = await attempt(
        client,
        SET_PLAYBOOK_MUTATION,
        admin,
        caseTypeCode="QUESTION",
        steps=[{"stage": "INTAKE", "title": "Greet"}, {"stage": "REVIEW", "title": "Review"}],
    )
    draft = await attempt(
        client, SET_PLAYBOOK_MUTATION, admin, caseTypeCode="POTHOLE", steps=[{"stage": "DRAFT", "title": "Write"}]
    )
    blank = await attempt(
        client,
        SET_PLAYBOOK_MUTATION,
        admin,
        caseTypeCode="POTHOLE",
        steps=[{"stage": "INTAKE", "title": "Ok"}, {"stage": "INTAKE", "title": "  "}],
    )
    unknown = await attempt(client, SET_PLAYBOOK_MUTATION, admin, caseTypeCode="NOPE", steps=[])
    assert [(e["code"], e["field"]) for p in (review, draft, blank, unknown) for e in p["errors"]] == [
        ("VALIDATION_FAILED", "steps.1.stage"),
        ("VALIDATION_FAILED", "steps.0.stage"),
        ("VALIDATION_FAILED", "steps.1.title"),
        ("VALIDATION_FAILED", "caseTypeCode"),
    ]


async def test_a_submitted_case_shows_its_checklist_with_progress_to_staff_only(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await set_playbook(client, token("admin"))
    # when
    case_id = await taken_case(client, token)
    # then
    case = await playbook(client, token("agent"), case_id)
    assert {k: v for k, v in case["playbook"].items() if k != "stages"} == {
        "enforceRequiredSteps": True,
        "total": 4,
        "done": 0,
        "requiredOpen": 3,
    }
    assert [
        (s["stage"], s["current"], s["total"], s["done"], s["requiredOpen"]) for s in case["playbook"]["stages"]
    ] == [("INTAKE", True, 2, 0, 1), ("REVIEW", False, 1, 0, 1), ("PROCESS", False, 1, 0, 1)]
    assert [(s["title"], s["required"], s["done"]) for s in case["playbook"]["stages"][0]["steps"]] == [
        ("Verify the location", True, False),
        ("Call the requester", False, False),
    ]
    assert (await playbook(client, token("requester"), case_id))["playbook"] is None
    types = (await client.data(CASE_TYPES_QUERY, token=token("requester")))["caseTypes"]
    assert [t["playbook"] for t in types if t["code"] == "POTHOLE"] == [None]


async def test_the_assigned_agent_completes_and_reopens_a_step_each_a_recorded_event(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # given
    await set_playbook(client, token("admin"))
    case_id = await taken_case(client, token)
    dana = token("agent")
    verify = step_id(await playbook(client, dana, case_id), "Verify the location")
    # when
    done = await act(client, COMPLETE_STEP_MUTATION, dana, stepId=verify, expectedVersion=2)
    # then
    assert (done["step"]["done"], done["step"]["doneBy"], done["case"]["version"]) == (True, {"id": "dana"}, 3)
    assert done["step"]["doneAt"] is not None
    assert (done["event"]["type"], done["event"]["action"], done["event"]["version"]) == (
        "CASE_UPDATED",
        "COMPLETE_STEP",
        3,
    )
    assert done["event"]["details"] == {
        "stepId": verify,
        "stage": "INTAKE",
        "title": "Verify the location",
        "done": True,
    }
    progress = (await playbook(client, dana, case_id))["playbook"]
    assert (progress["done"], progress["requiredOpen"], progress["stages"][0]["requiredOpen"]) == (1, 2, 0)
    # when
    reopened = await act(client, REOPEN_STEP_MUTATION, dana, stepId=verify)
    # then
    assert (reopened["step"]["done"], reopened["step"]["doneBy"], reopened["step"]["doneAt"]) == (False, None, None)
    assert (reopened["event"]["action"], reopened["event"]["details"]["done"], reopened["case"]["version"]) == (
        "COMPLETE_STEP",
        False,
        4,
    )
    history = (await client.data(HISTORY_QUERY, {"id": case_id}, token=dana))["case"]["history"]["edges"]
    assert [e["node"]["action"] for e in history] == ["CREATE", "ASSIGN_TO_ME", "COMPLETE_STEP", "COMPLETE_STEP"]
    assert [e.action.value for e in publisher.events][-2:] == ["COMPLETE_STEP", "COMPLETE_STEP"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("manager", []),
        ("other_agent", ["PERMISSION_DENIED"]),
        ("requester", ["PERMISSION_DENIED"]),
        ("outsider_agent", ["NOT_FOUND"]),
        ("other_constituent", ["NOT_FOUND"]),
        ("admin", ["PERMISSION_DENIED"]),
    ],
)
async def test_only_the_assigned_agent_or_a_manager_of_the_group_ticks_steps(
    client: GraphQLClient, world: World, token: Callable[[str], str], who: str, expected: list[str]
) -> None:
    # given
    await set_playbook(client, token("admin"))
    case_id = await taken_case(client, token)
    verify = step_id(await playbook(client, token("agent"), case_id), "Verify the location")
    # when
    payload = await attempt(client, COMPLETE_STEP_MUTATION, token(who), stepId=verify)
    # then
    assert codes(payload) == expected
    assert await event_count(case_id) == (3 if not expected else 2)


async def test_ticking_a_done_step_again_an_unknown_step_or_a_stale_version_is_refused(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await set_playbook(client, token("admin"))
    case_id = await taken_case(client, token)
    dana = token("agent")
    verify = step_id(await playbook(client, dana, case_id), "Verify the location")
    call = step_id(await playbook(client, dana, case_id), "Call the requester")
    await act(client, COMPLETE_STEP_MUTATION, dana, stepId=verify)
    # when / then
    assert codes(await attempt(client, COMPLETE_STEP_MUTATION, dana, stepId=verify)) == ["TRANSITION_NOT_ALLOWED"]
    assert codes(await attempt(client, REOPEN_STEP_MUTATION, dana, stepId=call)) == ["TRANSITION_NOT_ALLOWED"]
    assert codes(await attempt(client, COMPLETE_STEP_MUTATION, dana, stepId="999999")) == ["NOT_FOUND"]
    assert codes(await attempt(client, COMPLETE_STEP_MUTATION, dana, stepId="x")) == ["NOT_FOUND"]
    # a superscript digit (str.isdigit() holds, int() fails) and a number beyond the INT column
    assert codes(await attempt(client, COMPLETE_STEP_MUTATION, dana, stepId="\u00b2")) == ["NOT_FOUND"]
    assert codes(await attempt(client, COMPLETE_STEP_MUTATION, dana, stepId=str(2**31))) == ["NOT_FOUND"]
    assert codes(await attempt(client, COMPLETE_STEP_MUTATION, dana, stepId=call, expectedVersion=2)) == [
        "VERSION_CONFLICT"
    ]
    assert await event_count(case_id) == 3


async def test_a_repeated_step_completion_with_the_same_idempotency_key_records_one_event(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await set_playbook(client, token("admin"))
    case_id = await taken_case(client, token)
    dana = token("agent")
    verify = step_id(await playbook(client, dana, case_id), "Verify the location")
    # when
    first = await act(client, COMPLETE_STEP_MUTATION, dana, stepId=verify, idempotencyKey="tick-1")
    again = await act(client, COMPLETE_STEP_MUTATION, dana, stepId=verify, idempotencyKey="tick-1")
    # then
    assert again == first
    assert await event_count(case_id) == 3


async def test_a_stage_cannot_be_left_while_one_of_its_required_steps_is_open(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: the required INTAKE step is open (the optional one never matters)
    await set_playbook(client, token("admin"))
    case_id = await taken_case(client, token)
    dana = token("agent")
    # when
    refused = await attempt(client, BEGIN_REVIEW_MUTATION, dana, caseId=case_id)
    resolved = await attempt(
        client, PROPOSE_SOLUTION_MUTATION, dana, caseId=case_id, resolutionCode="SOLVED", resolutionNotes="Patched."
    )
    # then
    assert codes(refused) == codes(resolved) == ["TRANSITION_NOT_ALLOWED"]
    assert await event_count(case_id) == 2
    # when the step is done, the case moves on, and the next stage waits for its own step
    await act(
        client,
        COMPLETE_STEP_MUTATION,
        dana,
        stepId=step_id(await playbook(client, dana, case_id), "Verify the location"),
    )
    reviewed = await act(client, BEGIN_REVIEW_MUTATION, dana, caseId=case_id)
    assert (reviewed["case"]["stage"], reviewed["case"]["status"]) == ("REVIEW", "OPEN")
    assert codes(await attempt(client, START_WORK_MUTATION, dana, caseId=case_id)) == ["TRANSITION_NOT_ALLOWED"]
    current = (await playbook(client, dana, case_id))["playbook"]["stages"]
    assert [s["stage"] for s in current if s["current"]] == ["REVIEW"]


async def test_open_required_steps_never_hold_back_the_agent_closing_or_cancelling_the_case(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: an enforced playbook, two cases in INTAKE with "Verify the location" open
    await set_playbook(client, token("admin"))
    first, second = await taken_case(client, token), await taken_case(client, token)
    offered_before = await offered(client, token("agent"), first)
    # when: the assigned agent closes one, a manager cancels the other
    closed = await attempt(
        client, CLOSE_CASE_MUTATION, token("agent"), caseId=first, resolutionNotes="Filled by the owner."
    )
    cancelled = await attempt(client, CANCEL_CASE_MUTATION, token("manager"), caseId=second, reason="Private road.")
    # then: playbooks gate progress, not exits; and the buttons said so beforehand
    assert closed["errors"] == [] and closed["case"]["status"] == "CLOSED"
    assert cancelled["errors"] == [] and cancelled["case"]["status"] == "CANCELLED"
    assert "CLOSE" in offered_before and "BEGIN_REVIEW" not in offered_before


async def test_required_steps_do_not_hold_a_case_when_the_type_does_not_enforce_them(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await set_playbook(client, token("admin"), enforce=False)
    case_id = await taken_case(client, token)
    # when
    payload = await attempt(client, BEGIN_REVIEW_MUTATION, token("agent"), caseId=case_id)
    # then
    assert payload["errors"] == [] and payload["case"]["stage"] == "REVIEW"
    assert (await playbook(client, token("agent"), case_id))["playbook"]["enforceRequiredSteps"] is False


async def test_open_steps_never_stop_the_requester_withdrawing_or_a_manager_cancelling(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await set_playbook(client, token("admin"))
    first, second = await taken_case(client, token), await taken_case(client, token)
    # when
    withdrawn = await attempt(client, CLOSE_CASE_MUTATION, token("requester"), caseId=first)
    cancelled = await attempt(client, CANCEL_CASE_MUTATION, token("manager"), caseId=second, reason="Duplicate call.")
    # then
    assert withdrawn["errors"] == [] and withdrawn["case"]["status"] == "CLOSED"
    assert cancelled["errors"] == [] and cancelled["case"]["status"] == "CANCELLED"
    # and a finished case's steps stay as they are
    verify = step_id(await playbook(client, token("manager"), first), "Verify the location")
    assert codes(await attempt(client, COMPLETE_STEP_MUTATION, token("manager"), stepId=verify)) == [
        "TRANSITION_NOT_ALLOWED"
    ]


async def test_a_draft_gets_its_checklist_when_submitted_and_keeps_it_when_the_playbook_changes(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    admin, alice = token("admin"), token("requester")
    await set_playbook(client, admin)
    draft_id = (await act(client, CREATE_CASE_MUTATION, alice, caseTypeCode="POTHOLE", title="Hole", submit=False))[
        "case"
    ]["id"]
    # when
    await act(client, SUBMIT_CASE_MUTATION, alice, caseId=draft_id)
    await act(
        client,
        SET_PLAYBOOK_MUTATION,
        admin,
        caseTypeCode="POTHOLE",
        steps=[{"stage": "INTAKE", "title": "Something new"}],
    )
    later_id = await taken_case(client, token)
    # then
    submitted = (await playbook(client, token("manager"), draft_id))["playbook"]
    assert submitted["total"] == 4
    later = (await playbook(client, token("manager"), later_id))["playbook"]
    assert [step["title"] for stage in later["stages"] for step in stage["steps"]] == ["Something new"]


async def test_cases_of_a_type_without_a_playbook_have_no_checklist_and_are_not_held(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    case_id = await taken_case(client, token)
    # when
    payload = await attempt(client, BEGIN_REVIEW_MUTATION, token("agent"), caseId=case_id)
    # then
    assert payload["errors"] == []
    assert (await playbook(client, token("agent"), case_id))["playbook"] is None


async def test_a_child_case_gets_the_checklist_of_its_own_case_type(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await act(
        client,
        SET_PLAYBOOK_MUTATION,
        token("admin"),
        caseTypeCode="QUESTION",
        steps=[{"stage": "INTAKE", "title": "Answer by phone"}],
    )
    parent_id = await taken_case(client, token)
    # when
    split = await act(
        client,
        SPLIT_CASE_MUTATION,
        token("agent"),
        caseId=parent_id,
        children=[{"caseTypeCode": "QUESTION", "title": "Explain the repair schedule"}],
    )
    # then
    child_id = (
        await client.data(
            "query C($id: ID!) { case(id: $id) { children { cases { id } } } }",
            {"id": split["case"]["id"]},
            token=token("agent"),
        )
    )["case"]["children"]["cases"][0]["id"]
    child = (await playbook(client, token("agent"), child_id))["playbook"]
    assert [step["title"] for stage in child["stages"] for step in stage["steps"]] == ["Answer by phone"]


AVAILABLE_ACTIONS_QUERY = "query Actions($id: ID!) { case(id: $id) { availableActions } }"


async def offered(client: GraphQLClient, token: str, case_id: str) -> list[str]:
    data = await client.data(AVAILABLE_ACTIONS_QUERY, {"id": case_id}, token=token)
    actions: list[str] = data["case"]["availableActions"]
    return actions


async def test_available_actions_leave_out_stage_moves_held_by_an_open_required_step(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: an enforced playbook; the case is in INTAKE with "Verify the location" open
    await set_playbook(client, token("admin"))
    case_id = await taken_case(client, token)
    before = await offered(client, token("agent"), case_id)
    # when: the step is done
    case = await playbook(client, token("agent"), case_id)
    await act(client, COMPLETE_STEP_MUTATION, token("agent"), stepId=step_id(case, "Verify the location"))
    after = await offered(client, token("agent"), case_id)
    # then: leaving the stage is offered only once the mutation would be accepted
    assert "BEGIN_REVIEW" not in before and "PROPOSE_SOLUTION" not in before
    assert {"UPDATE", "REQUEST_INFO", "COMPLETE_STEP"} <= set(before)
    assert {"BEGIN_REVIEW", "PROPOSE_SOLUTION"} <= set(after)


async def test_available_actions_leave_out_resolving_a_parent_with_open_children(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: a taken case split into one child
    case_id = await taken_case(client, token)
    split = await act(
        client,
        SPLIT_CASE_MUTATION,
        token("agent"),
        caseId=case_id,
        children=[{"caseTypeCode": "QUESTION", "title": "Part for the helpdesk"}],
    )
    assert split["case"]["id"] == case_id
    blocked = await offered(client, token("agent"), case_id)
    # when: the child is cancelled by the manager
    child_id = (
        await client.data(
            "query($id: ID!) { case(id: $id) { children { cases { id } } } }", {"id": case_id}, token=token("agent")
        )
    )["case"]["children"]["cases"][0]["id"]
    await act(client, CANCEL_CASE_MUTATION, token("manager"), caseId=child_id, reason="Not needed after all")
    free = await offered(client, token("agent"), case_id)
    # then
    assert "PROPOSE_SOLUTION" not in blocked and "CLOSE" not in blocked and "UPDATE" in blocked
    assert {"PROPOSE_SOLUTION", "CLOSE"} <= set(free)
