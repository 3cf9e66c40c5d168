"""Assignment notifications: who is told when a case's assignee changes, who is not, and once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import casegraph.mail
from casegraph.services.notifications import NotificationKind
from casegraph.settings import Settings
from models import MailDelivery, Notification, User
from tests.helpers import GraphQLClient, World, insert_case

ASSIGN_MUTATION = """
mutation Assign($input: AssignCaseInput!) {
  assignCase(input: $input) { event { sequence } errors { code } }
}
"""
TAKE_MUTATION = """
mutation Take($input: AssignToMeInput!) { assignToMe(input: $input) { event { sequence } errors { code } } }
"""
NOTIFICATIONS_QUERY = "{ notifications { kind text eventSequence readAt case { number } } }"
UPDATE_CASE_TYPE_MUTATION = """
mutation Update($input: UpdateCaseTypeInput!) { updateCaseType(input: $input) { errors { code } } }
"""
CREATE_CASE_MUTATION = """
mutation Create($input: CreateCaseInput!) { createCase(input: $input) { case { number assignedTo { id } } errors { code } } }
"""


async def notifications_of(client: GraphQLClient, world: World, settings: Settings, who: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (await client.data(NOTIFICATIONS_QUERY, token=world.token(settings, who)))[
        "notifications"
    ]
    return rows


async def test_a_manager_assigning_a_case_tells_the_new_assignee_and_the_previous_one_once(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: a case assigned to dana
    case = await insert_case(world, assigned_to="agent")
    # when: maria (ROADS' manager) gives it to eli
    assigned = await client.data(
        ASSIGN_MUTATION,
        {"input": {"caseId": case.id, "assigneeId": "eli"}},
        token=world.token(settings, "manager"),
    )
    # then: eli hears it was assigned to him, dana that it was taken from her, each once, naming the event
    assert assigned["assignCase"]["errors"] == []
    sequence = assigned["assignCase"]["event"]["sequence"]
    assert await notifications_of(client, world, settings, "other_agent") == [
        {
            "kind": "ASSIGNED",
            "text": f"{case.number} was assigned to you.",
            "eventSequence": sequence,
            "readAt": None,
            "case": {"number": case.number},
        }
    ]
    assert await notifications_of(client, world, settings, "agent") == [
        {
            "kind": "UNASSIGNED",
            "text": f"{case.number} was taken from you and assigned to eli.",
            "eventSequence": sequence,
            "readAt": None,
            "case": {"number": case.number},
        }
    ]
    # and the one who made the change is not told of it
    assert await notifications_of(client, world, settings, "manager") == []


async def test_taking_a_case_oneself_tells_only_the_agent_it_was_taken_from(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: a case assigned to dana, and one assigned to nobody
    held = await insert_case(world, assigned_to="agent")
    free = await insert_case(world, assigned_to=None)
    eli = world.token(settings, "other_agent")
    # when: eli takes both
    for case in (held, free):
        taken = await client.data(TAKE_MUTATION, {"input": {"caseId": case.id}}, token=eli)
        assert taken["assignToMe"]["errors"] == []
    # then: dana is told of the one taken from her; eli hears nothing of his own doing
    told = await notifications_of(client, world, settings, "agent")
    assert [(n["kind"], n["text"]) for n in told] == [
        ("UNASSIGNED", f"{held.number} was taken from you and assigned to eli.")
    ]
    assert await notifications_of(client, world, settings, "other_agent") == []


async def test_assigning_a_case_to_its_own_assignee_again_tells_nobody(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: a case assigned to dana
    case = await insert_case(world, assigned_to="agent")
    # when: maria assigns it to dana again (refused or not, nothing changes hands)
    await client.data(
        ASSIGN_MUTATION, {"input": {"caseId": case.id, "assigneeId": "dana"}}, token=world.token(settings, "manager")
    )
    # then
    assert await Notification.filter(case_id=case.id).count() == 0


async def test_a_refused_assignment_tells_nobody(client: GraphQLClient, world: World, settings: Settings) -> None:
    # given: a case of ROADS assigned to dana
    case = await insert_case(world, assigned_to="agent")
    # when: an agent (not a manager) tries to hand it to eli
    refused = await client.data(
        ASSIGN_MUTATION, {"input": {"caseId": case.id, "assigneeId": "eli"}}, token=world.token(settings, "other_agent")
    )
    # then: refused, and no notification was written
    assert [e["code"] for e in refused["assignCase"]["errors"]] == ["PERMISSION_DENIED"]
    assert await Notification.filter(case_id=case.id).count() == 0


async def test_routing_tells_the_agent_it_chose(client: GraphQLClient, world: World, settings: Settings) -> None:
    # given: POTHOLE cases are routed automatically
    updated = await client.data(
        UPDATE_CASE_TYPE_MUTATION,
        {"input": {"code": "POTHOLE", "autoAssign": True}},
        token=world.token(settings, "admin"),
    )
    assert updated["updateCaseType"]["errors"] == []
    # when: a constituent files one
    created = await client.data(
        CREATE_CASE_MUTATION,
        {"input": {"caseTypeCode": "POTHOLE", "title": "Hole"}},
        token=world.token(settings, "requester"),
    )
    case = created["createCase"]["case"]
    chosen = case["assignedTo"]["id"]
    # then: the chosen agent is told, and only they
    who = "agent" if chosen == "dana" else "other_agent"
    other = "other_agent" if who == "agent" else "agent"
    told = await notifications_of(client, world, settings, who)
    assert [(n["kind"], n["text"]) for n in told] == [("ASSIGNED", f"{case['number']} was assigned to you.")]
    assert await notifications_of(client, world, settings, other) == []


async def test_an_assignment_is_mailed_to_an_agent_who_opted_in(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: eli wants his notifications by mail, dana does not
    await User.filter(id="eli").update(notification_mail=True)
    case = await insert_case(world, assigned_to="agent")
    # when: maria gives dana's case to eli
    await client.data(
        ASSIGN_MUTATION, {"input": {"caseId": case.id, "assigneeId": "eli"}}, token=world.token(settings, "manager")
    )
    # then: one notification mail, to eli, about the assignment
    mails = await MailDelivery.filter(case_id=case.id, template="notification").values("user_id", "facts")
    assert [(m["user_id"], m["facts"]["kind"]) for m in mails] == [("eli", "ASSIGNED")]


def test_every_notification_kind_is_worded_in_every_mail_language() -> None:
    # A notification mail's subject names its kind (mail/render.py: "notification.<KIND>").
    catalogues = sorted((Path(casegraph.mail.__file__).parent / "catalogs").glob("*.json"))
    assert catalogues
    for catalogue in catalogues:
        texts = json.loads(catalogue.read_text(encoding="utf-8"))
        missing = [kind.value for kind in NotificationKind if f"notification.{kind.value}" not in texts]
        assert missing == [], f"{catalogue.name} has no words for {missing}"
