"""The life cycle at its edges (issue 14, §6), over GraphQL on HTTP: separation of duties, a
finished case's tasks, proposals kept in history, playbooks that never hold an exit, the channel
a constituent cannot choose, and ``availableActions`` offering every action the server accepts."""

from __future__ import annotations

from typing import Any

from casegraph.domain.enums import CaseStage, CaseStatus, Role
from casegraph.services import admin
from casegraph.settings import Settings
from tests.helpers import GraphQLClient, World, event_count, insert_case

CASE_FIELDS = "id status stage channel resolutionCode resolutionNotes requester { id } assignedTo { id }"


def mutation(
    field: str, payload: str = f"case {{ {CASE_FIELDS} }} event {{ action details }} errors {{ code field }}"
) -> str:
    name = field[0].upper() + field[1:]
    return f"mutation {name}($input: {name}Input!) {{ {field}(input: $input) {{ {payload} }} }}"


CREATE_CASE_MUTATION = mutation("createCase")
ASSIGN_TO_ME_MUTATION = mutation("assignToMe")
ASSIGN_CASE_MUTATION = mutation("assignCase")
ASSIGN_WORK_MUTATION = mutation("assignWork")
PROPOSE_SOLUTION_MUTATION = mutation("proposeSolution")
REJECT_SOLUTION_MUTATION = mutation("rejectSolution")
CLOSE_CASE_MUTATION = mutation("closeCase")
CANCEL_CASE_MUTATION = mutation("cancelCase")
REFER_CASE_MUTATION = mutation("referCase", "errors { code field }")
MY_TASKS_QUERY = "query Mine($states: [TaskState!]) { myTasks(states: $states) { id title state } }"
CASE_QUERY = """query Case($id: ID!) { case(id: $id) {
  status availableActions tasks { title state note finishedAt }
  history { edges { node { action details } } } } }"""


async def act(client: GraphQLClient, document: str, token: str, **fields: Any) -> dict[str, Any]:
    data = await client.data(document, {"input": fields}, token=token)
    payload: dict[str, Any] = next(iter(data.values()))
    return payload


async def case_view(client: GraphQLClient, token: str, case_id: str) -> dict[str, Any]:
    data = await client.data(CASE_QUERY, {"id": case_id}, token=token)
    case: dict[str, Any] = data["case"]
    return case


async def test_staff_cannot_file_a_case_with_a_non_constituent_as_its_requester(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    dana = world.token(settings, "agent")
    # when: dana files a case naming himself, then a colleague, as the requester
    himself = await act(
        client,
        CREATE_CASE_MUTATION,
        dana,
        caseTypeCode="POTHOLE",
        title="My own pothole",
        requesterId=world.sub("agent"),
    )
    colleague = await act(
        client,
        CREATE_CASE_MUTATION,
        dana,
        caseTypeCode="POTHOLE",
        title="Eli's pothole",
        requesterId=world.sub("other_agent"),
    )
    # then
    assert himself["errors"] == colleague["errors"] == [{"code": "VALIDATION_FAILED", "field": "requesterId"}]
    assert himself["case"] is None and await event_count() == 0


async def test_a_requester_who_is_also_an_agent_never_takes_staff_actions_on_their_own_case(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: sam is an agent of ROADS and a constituent, and files a pothole of his own
    await admin.add_group_member(
        actor=world.actor("admin"), group_code="ROADS", user_id="sam", is_manager=False, now=world.clock()
    )
    sam = client.token("sam", Role.AGENT, Role.CONSTITUENT)
    filed = await act(
        client, CREATE_CASE_MUTATION, sam, caseTypeCode="POTHOLE", title="Pothole by my house", requesterId="sam"
    )
    assert filed["errors"] == []
    case_id = filed["case"]["id"]
    # when: he tries to take it, and a manager tries to give it to him
    taken = await act(client, ASSIGN_TO_ME_MUTATION, sam, caseId=case_id)
    given = await act(client, ASSIGN_CASE_MUTATION, world.token(settings, "manager"), caseId=case_id, assigneeId="sam")
    offered = (await case_view(client, sam, case_id))["availableActions"]
    # then: only a requester's actions, and nothing recorded beyond the filing
    assert taken["errors"] == [{"code": "PERMISSION_DENIED", "field": None}]
    assert given["errors"] == [{"code": "VALIDATION_FAILED", "field": "assigneeId"}]
    assert set(offered) == {"UPDATE", "CLOSE", "CANCEL"}
    assert await event_count(case_id) == 1


async def test_closing_or_cancelling_a_case_cancels_its_open_tasks_which_leave_my_tasks(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: two cases with work assigned to finn, one task of the first already done
    dana, finn = world.token(settings, "agent"), world.token(settings, "field_agent")
    first = await insert_case(world, state=(CaseStage.PROCESS, CaseStatus.WORK_IN_PROGRESS))
    second = await insert_case(world, state=(CaseStage.PROCESS, CaseStatus.WORK_IN_PROGRESS))
    for case, titles in ((first, ["Patch", "Sweep"]), (second, ["Cone off"])):
        assigned = await act(
            client,
            ASSIGN_WORK_MUTATION,
            dana,
            caseId=case.id,
            tasks=[{"title": t, "assigneeId": "finn"} for t in titles],
        )
        assert assigned["errors"] == []
    [sweep] = [t for t in (await client.data(MY_TASKS_QUERY, token=finn))["myTasks"] if t["title"] == "Sweep"]
    done = await client.data(
        "mutation($id: ID!) { completeTask(input: {taskId: $id}) { errors { code } } }", {"id": sweep["id"]}, token=finn
    )
    assert done["completeTask"]["errors"] == []
    # when: the agent closes the first, a manager cancels the second
    closed = await act(client, CLOSE_CASE_MUTATION, dana, caseId=first.id, resolutionNotes="Owner fixed it.")
    cancelled = await act(
        client, CANCEL_CASE_MUTATION, world.token(settings, "manager"), caseId=second.id, reason="Filed twice."
    )
    # then: every open task is cancelled, each saying why; the done one stays done
    assert closed["errors"] == cancelled["errors"] == []
    assert (await client.data(MY_TASKS_QUERY, token=finn))["myTasks"] == []
    tasks = {t["title"]: t for c in (first, second) for t in (await case_view(client, dana, c.id))["tasks"]}
    assert {title: t["state"] for title, t in tasks.items()} == {
        "Patch": "CANCELLED",
        "Sweep": "DONE",
        "Cone off": "CANCELLED",
    }
    assert "CLOSE" in tasks["Patch"]["note"] and "CANCEL" in tasks["Cone off"]["note"]
    assert tasks["Patch"]["finishedAt"] and tasks["Cone off"]["finishedAt"]


async def test_every_proposal_and_a_staff_close_keep_their_code_and_notes_in_history(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    dana, alice = world.token(settings, "agent"), world.token(settings, "requester")
    case = await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.OPEN))
    # when: a first proposal is rejected, a second one replaces it, it is rejected too, and dana closes
    await act(
        client,
        PROPOSE_SOLUTION_MUTATION,
        dana,
        caseId=case.id,
        resolutionCode="SOLVED_WORKAROUND",
        resolutionNotes="Coned off for now.",
    )
    await act(client, REJECT_SOLUTION_MUTATION, alice, caseId=case.id, reason="Cones are not a repair.")
    await act(
        client,
        PROPOSE_SOLUTION_MUTATION,
        dana,
        caseId=case.id,
        resolutionCode="NOT_SOLVED_TOO_COSTLY",
        resolutionNotes="Resurfacing is planned for spring.",
    )
    await act(client, REJECT_SOLUTION_MUTATION, alice, caseId=case.id, reason="Spring is too late.")
    closed = await act(client, CLOSE_CASE_MUTATION, dana, caseId=case.id, resolutionNotes="Patched after all.")
    history = [e["node"] for e in (await case_view(client, alice, case.id))["history"]["edges"]]
    # then: the requester's history holds each proposal and the close, as they were
    outcomes = [
        (e["action"], e["details"].get("resolutionCode"), e["details"].get("resolutionNotes"))
        for e in history
        if e["action"] in ("PROPOSE_SOLUTION", "CLOSE")
    ]
    assert outcomes == [
        ("PROPOSE_SOLUTION", "SOLVED_WORKAROUND", "Coned off for now."),
        ("PROPOSE_SOLUTION", "NOT_SOLVED_TOO_COSTLY", "Resurfacing is planned for spring."),
        ("CLOSE", None, "Patched after all."),
    ]
    assert closed["case"]["resolutionNotes"] == "Patched after all."


async def test_a_constituent_cannot_choose_the_channel_of_their_case(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    alice = world.token(settings, "requester")
    # when: her client claims the case came by phone, and a partner, and staff file one by phone
    phone = await act(client, CREATE_CASE_MUTATION, alice, caseTypeCode="POTHOLE", title="Hole", channel="PHONE")
    partner = await act(client, CREATE_CASE_MUTATION, alice, caseTypeCode="POTHOLE", title="Hole", channel="PARTNER")
    by_staff = await act(
        client,
        CREATE_CASE_MUTATION,
        world.token(settings, "agent"),
        caseTypeCode="POTHOLE",
        title="Hole",
        channel="PHONE",
        requesterId=world.sub("requester"),
    )
    # then
    assert phone["case"]["channel"] == partner["case"]["channel"] == "PORTAL"
    assert by_staff["case"]["channel"] == "PHONE"


async def test_available_actions_list_the_desk_actions_only_to_whom_the_server_accepts_them_from(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: a case in review assigned to dana; eli is another agent of its group
    case = await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.OPEN))
    dana, eli = world.token(settings, "agent"), world.token(settings, "other_agent")
    # when
    assignee = set((await case_view(client, dana, case.id))["availableActions"])
    group_agent = set((await case_view(client, eli, case.id))["availableActions"])
    refused = await act(client, REFER_CASE_MUTATION, eli, caseId=case.id, partnerCode="HEALTH")
    # then: the case's agent may refer, link, mark as duplicate and split; a group agent only links
    assert {"REFER", "LINK_ARTICLE", "MARK_DUPLICATE", "SPLIT_CASE"} <= assignee
    assert "COMPLETE_STEP" not in assignee  # the case type has no playbook: no step to tick off
    assert group_agent == {"UPDATE", "LINK_ARTICLE"}
    assert refused["errors"] == [{"code": "PERMISSION_DENIED", "field": None}]


async def test_editable_fields_name_what_the_viewers_update_may_change(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    case = await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.OPEN))
    query = "query Editable($id: ID!) { case(id: $id) { editableFields } }"

    async def editable(who: str) -> list[str]:
        fields: list[str] = (await client.data(query, {"id": case.id}, token=world.token(settings, who)))["case"][
            "editableFields"
        ]
        return fields

    # when
    by_viewer = {who: await editable(who) for who in ("agent", "other_agent", "requester")}
    refused = await act(
        client, mutation("updateCase"), world.token(settings, "other_agent"), caseId=case.id, title="Renamed"
    )
    # then: the group agent may only add notes, so an edit form has nothing to offer him
    assert by_viewer == {
        "agent": ["contactEmail", "contactPhone", "description", "impact", "latitude", "longitude", "title", "urgency"],
        "other_agent": [],
        "requester": ["contactEmail", "contactPhone", "description"],
    }
    assert refused["errors"] == [{"code": "PERMISSION_DENIED", "field": "title"}]
