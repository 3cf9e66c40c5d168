"""Work orders from the field agent's side, and @-mentions in comments and work notes."""

from __future__ import annotations

from casegraph.domain.enums import CaseStage, CaseStatus
from casegraph.settings import Settings
from tests.helpers import GraphQLClient, World, insert_case

ASSIGN_WORK_MUTATION = """
mutation Work($input: AssignWorkInput!) {
  assignWork(input: $input) { case { status tasks { id title state dueAt assignee { id } } } errors { code field } }
}
"""
MY_TASKS_QUERY = (
    "query Mine($states: [TaskState!]) { myTasks(states: $states) { id title state dueAt case { number status } } }"
)
START_TASK_MUTATION = """
mutation Start($input: StartTaskInput!) {
  startTask(input: $input) { task { state } event { action type } errors { code } }
}
"""
COMPLETE_TASK_MUTATION = """
mutation Done($input: CompleteTaskInput!) { completeTask(input: $input) { task { state note } errors { code } } }
"""
UPDATE_CASE_MUTATION = """
mutation Update($input: UpdateCaseInput!) { updateCase(input: $input) { event { sequence details } errors { code } } }
"""
NOTIFICATIONS_QUERY = "{ notifications(unreadOnly: true) { kind text eventSequence case { number } } }"
MARK_READ_MUTATION = "mutation { markNotificationsRead }"


async def test_field_agent_sees_their_tasks_soonest_due_first_and_works_them(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: work assigned with two tasks for finn, one with a due date
    case = await insert_case(world, state=(CaseStage.PROCESS, CaseStatus.WORK_IN_PROGRESS))
    assigned = await client.data(
        ASSIGN_WORK_MUTATION,
        {
            "input": {
                "caseId": case.id,
                "tasks": [
                    {"title": "Inspect later", "assigneeId": "finn"},
                    {"title": "Patch first", "assigneeId": "finn", "dueAt": "2026-11-05T12:00:00+00:00"},
                    {"title": "Someone else's", "assigneeId": "eli"},
                ],
            }
        },
        token=world.token(settings, "agent"),
    )
    assert assigned["assignWork"]["errors"] == []
    finn = world.token(settings, "field_agent")
    # when
    mine = (await client.data(MY_TASKS_QUERY, token=finn))["myTasks"]
    started = await client.data(START_TASK_MUTATION, {"input": {"taskId": mine[0]["id"]}}, token=finn)
    again = await client.data(START_TASK_MUTATION, {"input": {"taskId": mine[0]["id"]}}, token=finn)
    done = await client.data(
        COMPLETE_TASK_MUTATION, {"input": {"taskId": mine[0]["id"], "note": "Patched"}}, token=finn
    )
    in_progress = (await client.data(MY_TASKS_QUERY, {"states": ["IN_PROGRESS"]}, token=finn))["myTasks"]
    # then
    assert [t["title"] for t in mine] == ["Patch first", "Inspect later"]
    assert mine[0]["dueAt"].startswith("2026-11-05T12:00:00") and mine[0]["case"]["number"] == case.number
    assert started["startTask"] == {
        "task": {"state": "IN_PROGRESS"},
        "event": {"action": "START_TASK", "type": "CASE_UPDATED"},
        "errors": [],
    }
    assert again["startTask"]["errors"][0]["code"] == "TRANSITION_NOT_ALLOWED"
    assert done["completeTask"] == {"task": {"state": "DONE", "note": "Patched"}, "errors": []}
    assert in_progress == []


async def test_a_repeated_task_completion_with_its_idempotency_key_replays_the_first_answer(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: a task finished once with an idempotency key
    case = await insert_case(world, state=(CaseStage.PROCESS, CaseStatus.WORK_IN_PROGRESS))
    agent = world.token(settings, "agent")
    assigned = await client.data(
        ASSIGN_WORK_MUTATION, {"input": {"caseId": case.id, "tasks": [{"title": "Patch"}]}}, token=agent
    )
    task_id = assigned["assignWork"]["case"]["tasks"][0]["id"]
    done = {"input": {"taskId": task_id, "note": "Patched", "idempotencyKey": "finish-1"}}
    first = await client.data(COMPLETE_TASK_MUTATION, done, token=agent)
    # when: the client retries (its answer was lost)
    again = await client.data(COMPLETE_TASK_MUTATION, done, token=agent)
    # then: the same answer, not a crash for want of the task in the stored result
    assert first["completeTask"] == {"task": {"state": "DONE", "note": "Patched"}, "errors": []}
    assert again == first


async def test_a_task_due_date_without_time_zone_is_refused(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    case = await insert_case(world, state=(CaseStage.PROCESS, CaseStatus.WORK_IN_PROGRESS))
    refused = await client.data(
        ASSIGN_WORK_MUTATION,
        {"input": {"caseId": case.id, "tasks": [{"title": "Patch", "dueAt": "2026-11-05T12:00:00"}]}},
        token=world.token(settings, "agent"),
    )
    assert refused["assignWork"]["errors"] == [{"code": "VALIDATION_FAILED", "field": "tasks.0.dueAt"}]


async def test_mentioning_staff_notifies_them_and_is_recorded_on_the_event(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    case = await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.OPEN))
    # when: dana mentions eli and maria (and herself, and a constituent, and nobody) in a work note
    updated = await client.data(
        UPDATE_CASE_MUTATION,
        {"input": {"caseId": case.id, "workNote": "@eli can you check? cc @maria. @dana @alice @nobody"}},
        token=world.token(settings, "agent"),
    )
    event = updated["updateCase"]["event"]
    eli_inbox = (await client.data(NOTIFICATIONS_QUERY, token=world.token(settings, "other_agent")))["notifications"]
    alice_inbox = (await client.data(NOTIFICATIONS_QUERY, token=world.token(settings, "requester")))["notifications"]
    marked = await client.data(MARK_READ_MUTATION, token=world.token(settings, "other_agent"))
    eli_after = (await client.data(NOTIFICATIONS_QUERY, token=world.token(settings, "other_agent")))["notifications"]
    # then: only staff other than the author are mentioned, each told once
    assert event["details"]["mentions"] == ["eli", "maria"]
    assert eli_inbox == [
        {
            "kind": "MENTION",
            "text": eli_inbox[0]["text"],
            "eventSequence": event["sequence"],
            "case": {"number": case.number},
        }
    ]
    assert alice_inbox == []
    assert marked["markNotificationsRead"] == 1 and eli_after == []


async def test_task_ids_no_task_can_have_are_not_found(client: GraphQLClient, world: World, settings: Settings) -> None:
    # given: a superscript digit (str.isdigit() holds, int() fails) and numbers beyond the INT column
    case = await insert_case(world, state=(CaseStage.PROCESS, CaseStatus.WORK_IN_PROGRESS))
    agent = world.token(settings, "agent")
    await client.data(ASSIGN_WORK_MUTATION, {"input": {"caseId": case.id, "tasks": [{"title": "Patch"}]}}, token=agent)
    task_ids = ["\u00b2", "99999999999", str(2**31), "9" * 30_000]
    # when
    started = [
        (await client.data(START_TASK_MUTATION, {"input": {"taskId": task_id}}, token=agent))["startTask"]
        for task_id in task_ids
    ]
    # then
    assert [payload["errors"] for payload in started] == [[{"code": "NOT_FOUND"}]] * len(task_ids)


MARK_SOME_READ_MUTATION = "mutation Read($ids: [ID!]) { markNotificationsRead(ids: $ids) }"


async def test_notification_ids_no_notification_can_have_mark_nothing_read(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: one unread mention for eli
    case = await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.OPEN))
    await client.data(
        UPDATE_CASE_MUTATION,
        {"input": {"caseId": case.id, "workNote": "@eli please look"}},
        token=world.token(settings, "agent"),
    )
    eli = world.token(settings, "other_agent")
    # when: ids that are not numbers, or beyond the INT column
    marked = await client.data(MARK_SOME_READ_MUTATION, {"ids": ["\u00b2", "99999999999", str(2**31), "x"]}, token=eli)
    # then
    assert marked["markNotificationsRead"] == 0
    assert len((await client.data(NOTIFICATIONS_QUERY, token=eli))["notifications"]) == 1


async def test_a_constituents_at_sign_mentions_nobody_and_notifies_no_staff(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: alice's open case in ROADS
    case = await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.OPEN))
    # when: alice names staff of her case's group and of another group in a comment
    updated = await client.data(
        UPDATE_CASE_MUTATION,
        {"input": {"caseId": case.id, "comment": "@eli @maria @grace are you there?"}},
        token=world.token(settings, "requester"),
    )
    inboxes = [
        (await client.data(NOTIFICATIONS_QUERY, token=world.token(settings, who)))["notifications"]
        for who in ("other_agent", "manager", "outsider_agent")
    ]
    # then: no mention is recorded and no member of staff is paged
    assert updated["updateCase"]["errors"] == []
    assert updated["updateCase"]["event"]["details"].get("mentions", []) == []
    assert inboxes == [[], [], []]


async def test_staff_mentions_reach_only_those_who_may_see_the_case(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: a ROADS case; grace and oscar are staff of BENEFITS
    case = await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.OPEN))
    # when: dana mentions eli (ROADS) and both BENEFITS members in a work note
    updated = await client.data(
        UPDATE_CASE_MUTATION,
        {"input": {"caseId": case.id, "workNote": "@eli @grace @oscar please look"}},
        token=world.token(settings, "agent"),
    )
    eli_inbox = (await client.data(NOTIFICATIONS_QUERY, token=world.token(settings, "other_agent")))["notifications"]
    grace_inbox = (await client.data(NOTIFICATIONS_QUERY, token=world.token(settings, "outsider_agent")))[
        "notifications"
    ]
    oscar_inbox = (await client.data(NOTIFICATIONS_QUERY, token=world.token(settings, "outsider_manager")))[
        "notifications"
    ]
    # then
    assert updated["updateCase"]["event"]["details"]["mentions"] == ["eli"]
    assert len(eli_inbox) == 1 and grace_inbox == [] and oscar_inbox == []


async def test_a_short_page_of_my_tasks_keeps_the_dated_ones_ahead_of_the_undated(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: two undated tasks written before one with a due date (SQLite orders NULL first)
    case = await insert_case(world, state=(CaseStage.PROCESS, CaseStatus.WORK_IN_PROGRESS))
    assigned = await client.data(
        ASSIGN_WORK_MUTATION,
        {
            "input": {
                "caseId": case.id,
                "tasks": [
                    {"title": "Someday one", "assigneeId": "finn"},
                    {"title": "Someday two", "assigneeId": "finn"},
                    {"title": "Due Friday", "assigneeId": "finn", "dueAt": "2026-11-06T12:00:00+00:00"},
                ],
            }
        },
        token=world.token(settings, "agent"),
    )
    assert assigned["assignWork"]["errors"] == []
    finn = world.token(settings, "field_agent")
    # when
    first_one = (await client.data("{ myTasks(first: 1) { title } }", token=finn))["myTasks"]
    first_two = (await client.data("{ myTasks(first: 2) { title } }", token=finn))["myTasks"]
    # then the page is cut after the order, not before it
    assert first_one == [{"title": "Due Friday"}]
    assert [t["title"] for t in first_two] == ["Due Friday", "Someday one"]
