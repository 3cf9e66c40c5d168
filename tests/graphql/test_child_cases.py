"""Parent and child cases over GraphQL (issue 4, *Parent and child cases*): splitting a case into
children for other departments, who sees what of the family, and a parent that cannot be
resolved or closed while a child is open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from casegraph.domain.enums import CaseAction, CaseEventType, CaseStage, CaseStatus, ErrorCode
from casegraph.domain.errors import DomainError
from casegraph.services.case_changes import commit_change
from casegraph.services.extensions import Transition, check_transition
from casegraph.settings import Settings
from tests.helpers import (
    FakeClock,
    GraphQLClient,
    RecordingPublisher,
    World,
    case_row,
    counted_statements,
    event_count,
)

CASE_FIELDS = "id number status version requester { id } assignedTo { id } assignmentGroup { code } parent { id }"
SPLIT_CASE_MUTATION = f"""
mutation Split($input: SplitCaseInput!) {{
  splitCase(input: $input) {{
    case {{ id version status }} event {{ type action version details actor {{ id }} }}
    children {{ {CASE_FIELDS} title description caseType {{ code }} }}
    errors {{ code field }}
  }}
}}
"""
FAMILY_QUERY = f"""
query Family($id: ID!) {{
  case(id: $id) {{
    {CASE_FIELDS}
    children {{ total open byStatus {{ status count }} cases {{ {CASE_FIELDS} caseType {{ code }} }} }}
  }}
}}
"""
HISTORY_QUERY = (
    "query History($id: ID!) { case(id: $id) { history { edges { node { action type actor { id } details } } } } }"
)
UPDATE_CASE_TYPE_MUTATION = """
mutation UpdateCaseType($input: UpdateCaseTypeInput!) { updateCaseType(input: $input) { errors { code } } }
"""


def _case_mutation(field: str) -> str:
    name = field[0].upper() + field[1:]
    return (
        f"mutation {name}($input: {name}Input!) {{ {field}(input: $input) "
        "{ case { id stage status version } errors { code field } } }"
    )


CREATE_CASE_MUTATION = _case_mutation("createCase")
ASSIGN_TO_ME_MUTATION = _case_mutation("assignToMe")
PROPOSE_SOLUTION_MUTATION = _case_mutation("proposeSolution")
ACCEPT_SOLUTION_MUTATION = _case_mutation("acceptSolution")
REJECT_SOLUTION_MUTATION = _case_mutation("rejectSolution")
CLOSE_CASE_MUTATION = _case_mutation("closeCase")
CANCEL_CASE_MUTATION = _case_mutation("cancelCase")

TWO_DEPARTMENTS = [
    {"caseTypeCode": "POTHOLE", "title": "Repair the road surface"},
    {"caseTypeCode": "PAYMENT", "title": "Refund the damaged tyre", "description": "Receipt attached.", "impact": 1},
]
SOLVED = {"resolutionCode": "SOLVED", "resolutionNotes": "Done."}


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


async def taken_case(client: GraphQLClient, token: Callable[[str], str]) -> str:
    """Alice's pothole report (Roads), taken by Dana: INTAKE/OPEN, version 2."""
    case_id: str = (
        await act(
            client,
            CREATE_CASE_MUTATION,
            token("requester"),
            caseTypeCode="POTHOLE",
            title="Pothole burst my tyre",
            description="Elm St, by no. 12.",
        )
    )["case"]["id"]
    await act(client, ASSIGN_TO_ME_MUTATION, token("agent"), caseId=case_id)
    return case_id


async def family(client: GraphQLClient, token: str, case_id: str) -> dict[str, Any] | None:
    case: dict[str, Any] | None = (await client.data(FAMILY_QUERY, {"id": case_id}, token=token))["case"]
    return case


async def split_in_two(client: GraphQLClient, token: Callable[[str], str]) -> tuple[str, dict[str, str]]:
    """The parent and its children's ids by case type (POTHOLE for Roads, PAYMENT for Benefits)."""
    parent_id = await taken_case(client, token)
    await act(client, SPLIT_CASE_MUTATION, token("agent"), caseId=parent_id, children=TWO_DEPARTMENTS)
    seen = await family(client, token("requester"), parent_id)
    assert seen is not None
    return parent_id, {child["caseType"]["code"]: child["id"] for child in seen["children"]["cases"]}


async def test_the_assigned_agent_splits_a_request_into_children_for_two_departments(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # given
    parent_id = await taken_case(client, token)
    before = len(publisher.events)
    # when
    payload = await act(
        client, SPLIT_CASE_MUTATION, token("agent"), caseId=parent_id, children=TWO_DEPARTMENTS, expectedVersion=2
    )
    # then: one SPLIT_CASE event on the parent, which stays where it was
    assert payload["case"] == {"id": parent_id, "version": 3, "status": "OPEN"}
    assert (payload["event"]["type"], payload["event"]["action"], payload["event"]["version"]) == (
        "CASE_UPDATED",
        "SPLIT_CASE",
        3,
    )
    assert payload["event"]["details"] == {"children": 2, "caseTypes": ["POTHOLE", "PAYMENT"]}
    # Dana sees the Roads child (her group), not the Benefits one
    [roads] = payload["children"]
    assert (roads["title"], roads["status"], roads["version"], roads["requester"], roads["assignedTo"]) == (
        "Repair the road surface",
        "NEW",
        1,
        {"id": "alice"},
        None,
    )
    assert (roads["description"], roads["caseType"], roads["parent"]) == (
        "Elm St, by no. 12.",
        {"code": "POTHOLE"},
        {"id": parent_id},
    )
    # every new event was published after the commit, the parent's first
    published = publisher.events[before:]
    assert [(e.action.value, e.type.value) for e in published] == [
        ("SPLIT_CASE", "CASE_UPDATED"),
        ("CREATE", "CASE_CREATED"),
        ("CREATE", "CASE_CREATED"),
    ]
    assert [e.sequence for e in published] == sorted(e.sequence for e in published)
    assert {e.case_id for e in published[1:]} != {parent_id}


async def test_the_requester_sees_every_child_with_its_progress_and_each_child_its_parent(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    parent_id, children = await split_in_two(client, token)
    alice = token("requester")
    # when
    parent = await family(client, alice, parent_id)
    child = await family(client, alice, children["PAYMENT"])
    # then
    assert parent is not None and child is not None
    assert parent["children"]["total"] == parent["children"]["open"] == 2
    assert parent["children"]["byStatus"] == [{"status": "NEW", "count": 2}]
    assert [(c["assignmentGroup"]["code"], c["status"]) for c in parent["children"]["cases"]] == [
        ("ROADS", "NEW"),
        ("BENEFITS", "NEW"),
    ]
    assert all(c["number"].startswith("CS") for c in parent["children"]["cases"])
    assert child["parent"] == {"id": parent_id} and child["children"]["total"] == 0
    history = (await client.data(HISTORY_QUERY, {"id": children["PAYMENT"]}, token=alice))["case"]["history"]["edges"]
    assert [(e["node"]["action"], e["node"]["type"], e["node"]["actor"]) for e in history] == [
        ("CREATE", "CASE_CREATED", {"id": "dana"})
    ]
    assert history[0]["node"]["details"]["parentId"] == parent_id


async def test_another_department_sees_its_child_but_not_the_parent_and_counts_stay_whole(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    parent_id, children = await split_in_two(client, token)
    # when
    benefits_child = await family(client, token("outsider_agent"), children["PAYMENT"])
    benefits_parent = await family(client, token("outsider_agent"), parent_id)
    roads_parent = await family(client, token("agent"), parent_id)
    stranger = await family(client, token("other_constituent"), children["PAYMENT"])
    # then
    assert benefits_child is not None and benefits_child["parent"] is None
    assert benefits_parent is None and stranger is None
    assert roads_parent is not None and roads_parent["children"]["total"] == 2
    assert [c["id"] for c in roads_parent["children"]["cases"]] == [children["POTHOLE"]]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("manager", []),
        ("other_agent", ["PERMISSION_DENIED"]),
        ("requester", ["PERMISSION_DENIED"]),
        ("admin", ["PERMISSION_DENIED"]),
        ("outsider_manager", ["NOT_FOUND"]),
        ("other_constituent", ["NOT_FOUND"]),
    ],
)
async def test_only_the_assigned_agent_or_a_manager_of_the_group_may_split(
    client: GraphQLClient, world: World, token: Callable[[str], str], who: str, expected: list[str]
) -> None:
    # given
    parent_id = await taken_case(client, token)
    # when
    payload = await attempt(client, SPLIT_CASE_MUTATION, token(who), caseId=parent_id, children=TWO_DEPARTMENTS)
    # then
    assert codes(payload) == expected
    assert await event_count() == (5 if not expected else 2)


async def test_split_input_is_validated_and_a_refused_split_records_nothing(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    parent_id = await taken_case(client, token)
    dana = token("agent")
    # when
    refusals = [
        await attempt(client, SPLIT_CASE_MUTATION, dana, caseId=parent_id, children=[]),
        await attempt(
            client, SPLIT_CASE_MUTATION, dana, caseId=parent_id, children=[{"caseTypeCode": "NOPE", "title": "X"}]
        ),
        await attempt(
            client,
            SPLIT_CASE_MUTATION,
            dana,
            caseId=parent_id,
            children=[TWO_DEPARTMENTS[0], {"caseTypeCode": "PAYMENT", "title": "   "}],
        ),
        await attempt(
            client,
            SPLIT_CASE_MUTATION,
            dana,
            caseId=parent_id,
            children=[{"caseTypeCode": "PAYMENT", "title": "X", "urgency": 9}],
        ),
        await attempt(
            client,
            SPLIT_CASE_MUTATION,
            dana,
            caseId=parent_id,
            children=[{"caseTypeCode": "PAYMENT", "title": f"Part {n}"} for n in range(21)],
        ),
        await attempt(client, SPLIT_CASE_MUTATION, dana, caseId=parent_id, children=TWO_DEPARTMENTS, expectedVersion=1),
    ]
    # then
    assert [(e["code"], e["field"]) for p in refusals for e in p["errors"]] == [
        ("VALIDATION_FAILED", "children"),
        ("VALIDATION_FAILED", "children.0.caseTypeCode"),
        ("VALIDATION_FAILED", "children.1.title"),
        ("VALIDATION_FAILED", "children.0.urgency"),
        ("VALIDATION_FAILED", "children"),
        ("VERSION_CONFLICT", "expectedVersion"),
    ]
    assert await event_count() == 2


async def test_a_repeated_split_with_the_same_idempotency_key_creates_the_children_once(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    parent_id = await taken_case(client, token)
    # when
    first = await act(
        client,
        SPLIT_CASE_MUTATION,
        token("agent"),
        caseId=parent_id,
        children=TWO_DEPARTMENTS,
        idempotencyKey="split-1",
    )
    again = await act(
        client,
        SPLIT_CASE_MUTATION,
        token("agent"),
        caseId=parent_id,
        children=TWO_DEPARTMENTS,
        idempotencyKey="split-1",
    )
    # then
    assert again == first
    assert await event_count() == 5


async def test_a_parent_is_not_resolved_or_closed_while_a_child_is_open(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    parent_id, _ = await split_in_two(client, token)
    # when
    refusals = [
        await attempt(client, PROPOSE_SOLUTION_MUTATION, token("agent"), caseId=parent_id, **SOLVED),
        await attempt(client, CLOSE_CASE_MUTATION, token("agent"), caseId=parent_id, resolutionNotes="Done."),
        await attempt(client, CLOSE_CASE_MUTATION, token("manager"), caseId=parent_id, resolutionNotes="Done."),
        await attempt(client, CLOSE_CASE_MUTATION, token("requester"), caseId=parent_id),
    ]
    # then
    assert [codes(p) for p in refusals] == [["TRANSITION_NOT_ALLOWED"]] * 4
    assert await event_count(parent_id) == 3


async def test_a_parent_resolves_once_every_child_is_resolved_closed_or_cancelled(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: Roads cancels its child, Benefits resolves the other one
    parent_id, children = await split_in_two(client, token)
    await act(client, CANCEL_CASE_MUTATION, token("manager"), caseId=children["POTHOLE"], reason="Covered by parent.")
    grace = token("outsider_agent")
    await act(client, ASSIGN_TO_ME_MUTATION, grace, caseId=children["PAYMENT"])
    assert codes(await attempt(client, PROPOSE_SOLUTION_MUTATION, token("agent"), caseId=parent_id, **SOLVED)) == [
        "TRANSITION_NOT_ALLOWED"
    ]
    await act(client, PROPOSE_SOLUTION_MUTATION, grace, caseId=children["PAYMENT"], **SOLVED)
    # when
    payload = await attempt(client, PROPOSE_SOLUTION_MUTATION, token("agent"), caseId=parent_id, **SOLVED)
    # then
    assert payload["errors"] == [] and payload["case"]["status"] == "RESOLVED"
    parent = await family(client, token("requester"), parent_id)
    assert parent is not None
    assert (parent["children"]["total"], parent["children"]["open"]) == (2, 0)
    assert parent["children"]["byStatus"] == [{"status": "RESOLVED", "count": 1}, {"status": "CANCELLED", "count": 1}]


async def test_a_parent_is_rechecked_with_its_children_locked_and_a_case_without_children_is_not(
    client: GraphQLClient, world: World, token: Callable[[str], str], backend: str
) -> None:
    # given: a parent whose children are settled (one cancelled, one resolved), and a taken case
    # that never had a child
    parent_id, children = await split_in_two(client, token)
    await act(client, CANCEL_CASE_MUTATION, token("manager"), caseId=children["POTHOLE"], reason="Covered by parent.")
    grace = token("outsider_agent")
    await act(client, ASSIGN_TO_ME_MUTATION, grace, caseId=children["PAYMENT"])
    await act(client, PROPOSE_SOLUTION_MUTATION, grace, caseId=children["PAYMENT"], **SOLVED)
    childless_id = await taken_case(client, token)
    # when
    with counted_statements() as parent_statements:
        await act(client, PROPOSE_SOLUTION_MUTATION, token("agent"), caseId=parent_id, **SOLVED)
    with counted_statements() as childless_statements:
        await act(client, PROPOSE_SOLUTION_MUTATION, token("agent"), caseId=childless_id, **SOLVED)
    # then: the parent's children are read by the check, then again inside the transaction, locked
    parent_reads = [s for s in parent_statements if '"parent_id"=' in s]
    assert len(parent_reads) == 2, "\n".join(parent_statements)
    assert (" FOR UPDATE" in parent_reads[1]) == (backend == "postgres")
    # a case the check found without children cannot have gained one at the version it changed
    # from (a split changes the parent's version): it is read once
    assert len([s for s in childless_statements if '"parent_id"=' in s]) == 1, "\n".join(childless_statements)


async def test_a_resolved_parent_is_not_closed_while_a_reopened_child_is_open(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: both children resolved, the parent resolved, then the requester rejects one child's solution
    parent_id, children = await split_in_two(client, token)
    alice, grace = token("requester"), token("outsider_agent")
    await act(client, CANCEL_CASE_MUTATION, token("manager"), caseId=children["POTHOLE"], reason="Covered by parent.")
    await act(client, ASSIGN_TO_ME_MUTATION, grace, caseId=children["PAYMENT"])
    await act(client, PROPOSE_SOLUTION_MUTATION, grace, caseId=children["PAYMENT"], **SOLVED)
    await act(client, PROPOSE_SOLUTION_MUTATION, token("agent"), caseId=parent_id, **SOLVED)
    await act(client, REJECT_SOLUTION_MUTATION, alice, caseId=children["PAYMENT"], reason="No refund arrived.")
    # when
    payload = await attempt(client, ACCEPT_SOLUTION_MUTATION, alice, caseId=parent_id)
    # then
    assert codes(payload) == ["TRANSITION_NOT_ALLOWED"]
    assert (await case_row(parent_id)).status is CaseStatus.RESOLVED


async def test_automatic_closing_of_a_parent_waits_for_its_children(
    client: GraphQLClient, world: World, token: Callable[[str], str], clock: FakeClock
) -> None:
    # given: a parent in RESOLVED whose child was reopened (as above)
    parent_id, children = await split_in_two(client, token)
    grace = token("outsider_agent")
    await act(client, CANCEL_CASE_MUTATION, token("manager"), caseId=children["POTHOLE"], reason="Covered by parent.")
    await act(client, ASSIGN_TO_ME_MUTATION, grace, caseId=children["PAYMENT"])
    await act(client, PROPOSE_SOLUTION_MUTATION, grace, caseId=children["PAYMENT"], **SOLVED)
    await act(client, PROPOSE_SOLUTION_MUTATION, token("agent"), caseId=parent_id, **SOLVED)
    await act(client, REJECT_SOLUTION_MUTATION, token("requester"), caseId=children["PAYMENT"], reason="No refund.")
    parent = await case_row(parent_id)
    # when: the system's auto-close path asks the transition checks, as every automation does
    with pytest.raises(DomainError) as refused:
        await check_transition(
            Transition(
                case=parent,
                action=CaseAction.AUTO_CLOSE,
                target=(CaseStage.DECISION, CaseStatus.CLOSED),
                actor=None,
                now=clock(),
            )
        )
    # then
    assert refused.value.code is ErrorCode.TRANSITION_NOT_ALLOWED


async def test_cancelling_a_parent_is_not_held_back_by_open_children(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    parent_id, _ = await split_in_two(client, token)
    # when
    payload = await attempt(client, CANCEL_CASE_MUTATION, token("manager"), caseId=parent_id, reason="Withdrawn.")
    # then
    assert payload["errors"] == [] and payload["case"]["status"] == "CANCELLED"


async def test_a_resolved_or_finished_case_cannot_be_split(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    case_id = await taken_case(client, token)
    await act(client, PROPOSE_SOLUTION_MUTATION, token("agent"), caseId=case_id, **SOLVED)
    # when
    resolved = await attempt(client, SPLIT_CASE_MUTATION, token("agent"), caseId=case_id, children=TWO_DEPARTMENTS)
    await act(client, ACCEPT_SOLUTION_MUTATION, token("requester"), caseId=case_id)
    closed = await attempt(client, SPLIT_CASE_MUTATION, token("manager"), caseId=case_id, children=TWO_DEPARTMENTS)
    # then
    assert codes(resolved) == codes(closed) == ["TRANSITION_NOT_ALLOWED"]


async def test_children_of_an_auto_assign_type_are_routed_like_any_submitted_case(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: Benefits routes its cases automatically (Grace is its only agent)
    await act(client, UPDATE_CASE_TYPE_MUTATION, token("admin"), code="PAYMENT", autoAssign=True)
    parent_id = await taken_case(client, token)
    # when
    await act(client, SPLIT_CASE_MUTATION, token("manager"), caseId=parent_id, children=TWO_DEPARTMENTS[1:])
    # then
    parent = await family(client, token("requester"), parent_id)
    assert parent is not None
    [child] = parent["children"]["cases"]
    assert child["assignedTo"] == {"id": "grace"}
    history = (await client.data(HISTORY_QUERY, {"id": child["id"]}, token=token("requester")))["case"]["history"]
    assert [e["node"]["action"] for e in history["edges"]] == ["CREATE", "ASSIGN"]


async def test_a_writer_that_raced_past_the_check_cannot_resolve_a_parent_with_an_open_child(
    client: GraphQLClient, world: World, token: Callable[[str], str], clock: FakeClock
) -> None:
    # given: a parent whose children are open
    parent_id, _ = await split_in_two(client, token)
    parent = await case_row(parent_id)
    events_before = await event_count()
    # when: it commits a resolution without asking the transition checks
    with pytest.raises(DomainError) as refused:
        await commit_change(
            case=parent,
            actor_id="dana",
            action=CaseAction.PROPOSE_SOLUTION,
            event_type=CaseEventType.CASE_TRANSITIONED,
            target=(CaseStage.DECISION, CaseStatus.RESOLVED),
            changes={},
            summary={},
            now=clock(),
        )
    # then: the check inside the transaction refused it, and nothing was written
    assert refused.value.code is ErrorCode.TRANSITION_NOT_ALLOWED
    assert (await case_row(parent_id)).version == parent.version
    assert await event_count() == events_before
