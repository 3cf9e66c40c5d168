"""Referrals on one instance: each side's half against the GraphQL API, with the other agency
played by partner service tokens signed with the shared secret (the round trip between two real
instances is tests/referrals/test_two_instances.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from casegraph import partner_tokens
from casegraph.domain.commands import ProposeSolution, UpdateCase
from casegraph.domain.enums import CaseAction, CaseStage, CaseStatus, ResolutionCode, Role
from casegraph.services.case_actions import ActionRequest, perform
from models import Case, CaseEvent, CaseTask, OutboxDelivery, Referral, ReferralStatus
from tests.helpers import FakeClock, GraphQLClient, RecordingPublisher, World, event_count, insert_case

SECRET = "a-shared-secret-of-at-least-32-characters!"
PARTNER = "HEALTH"
CREATE_PARTNER = """mutation($input: CreatePartnerAgencyInput!) {
  createPartnerAgency(input: $input) { sharedSecret partner { code name graphqlUrl active receiveCaseTypeCode }
    errors { code field message } } }"""
REFER = """mutation($input: ReferCaseInput!) {
  referCase(input: $input) { referral { id status partnerCode taskId note direction }
    case { id version } event { action type details } errors { code field message } } }"""
RECEIVE = """mutation($input: ReceiveReferralInput!) {
  receiveReferral(input: $input) { referral { referralId caseId caseNumber status created } errors { code field message } } }"""
UPDATE = """mutation($input: ReferralUpdateInput!) {
  recordReferralUpdate(input: $input) { applied errors { code field message } } }"""
REFERRALS = """query($id: ID!) { case(id: $id) { referrals { id direction status partnerCode
  remoteCaseNumber remoteStatus remoteResolutionCode remoteResolutionNotes reason lastError } } }"""
DECIDE = """mutation($input: DecideReferralInput!) {
  %s(input: $input) { referral { status reason } case { status cancelReason } errors { code field message } } }"""


def partner_token(now: datetime, *, sender: str = PARTNER, receiver: str = "CASEGRAPH", secret: str = SECRET) -> str:
    return partner_tokens.mint(sender=sender, receiver=receiver, secret=secret, now=now)


async def add_partner(client: GraphQLClient, world: World, **overrides: Any) -> dict[str, Any]:
    values = {
        "code": PARTNER,
        "name": "Health Department",
        "graphqlUrl": "http://127.0.0.1:9/graphql",
        "sharedSecret": SECRET,
        "receiveCaseTypeCode": "QUESTION",
        **overrides,
    }
    data = await client.data(CREATE_PARTNER, {"input": values}, token=client.token("ada", *world.actor("admin").roles))
    result: dict[str, Any] = data["createPartnerAgency"]
    return result


def staff(client: GraphQLClient, world: World, who: str) -> str:
    return client.token(world.sub(who), *world.actor(who).roles)


async def test_an_admin_registers_a_partner_and_a_generated_secret_is_shown_once(
    client: GraphQLClient, world: World
) -> None:
    created = await add_partner(client, world, sharedSecret=None, code="health")
    assert created["errors"] == [] and len(created["sharedSecret"]) >= 32
    assert created["partner"] == {
        "code": "HEALTH",
        "name": "Health Department",
        "graphqlUrl": "http://127.0.0.1:9/graphql",
        "active": True,
        "receiveCaseTypeCode": "QUESTION",
    }
    listed = await client.data("{ partnerAgencies { code } }", token=staff(client, world, "admin"))
    assert listed == {"partnerAgencies": [{"code": "HEALTH"}]}
    # and: bad input is refused with the field named, nothing stored
    for bad, field in (
        ({"code": "1x"}, "code"),
        ({"code": "OTHER", "sharedSecret": "short"}, "sharedSecret"),
        ({"code": "OTHER", "graphqlUrl": "ftp://x"}, "url"),
        ({"code": "OTHER", "receiveCaseTypeCode": "NOPE"}, "receiveCaseTypeCode"),
        ({}, "code"),
    ):
        refused = await add_partner(client, world, **bad)
        assert [e["field"] for e in refused["errors"]] == [field], bad
    assert (
        len((await client.data("{ partnerAgencies { code } }", token=staff(client, world, "admin")))["partnerAgencies"])
        == 1
    )
    # and: agents see the active partners' codes and names only, constituents nothing
    agents = await client.data("{ referralPartners { code name } }", token=staff(client, world, "agent"))
    assert agents == {"referralPartners": [{"code": "HEALTH", "name": "Health Department"}]}
    body = await client.execute("{ referralPartners { code } }", token=staff(client, world, "requester"))
    assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    # and: only an administrator configures them
    body = await client.execute(
        CREATE_PARTNER,
        {"input": {"code": "X1", "name": "x", "graphqlUrl": "http://a.example/"}},
        token=staff(client, world, "manager"),
    )
    assert body["data"]["createPartnerAgency"]["errors"][0]["code"] == "PERMISSION_DENIED"


async def test_the_assigned_agent_refers_a_case_which_records_an_event_and_queues_one_message(
    client: GraphQLClient, world: World
) -> None:
    await add_partner(client, world)
    case = await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.OPEN))
    before = await event_count(case.id)
    payload = (
        await client.data(
            REFER,
            {"input": {"caseId": case.id, "partnerCode": "health", "note": "Mould"}},
            token=staff(client, world, "agent"),
        )
    )["referCase"]
    assert payload["errors"] == []
    assert payload["referral"] | {"id": None} == {
        "id": None,
        "status": "PENDING",
        "partnerCode": PARTNER,
        "taskId": None,
        "note": "Mould",
        "direction": "OUTBOUND",
    }
    assert payload["event"]["action"] == "REFER" and payload["event"]["details"]["partner"] == PARTNER
    assert payload["case"]["version"] == case.version + 1 and await event_count(case.id) == before + 1
    assert (await Case.get(id=case.id)).referred_agency == PARTNER
    [message] = await OutboxDelivery.filter(kind="referral")
    assert str(message.referral_id) == payload["referral"]["id"]
    assert message.payload["caseNumber"] == case.number and message.payload["note"] == "Mould"
    # and: the same referral again is refused (still open), nothing new
    again = (
        await client.data(
            REFER, {"input": {"caseId": case.id, "partnerCode": PARTNER}}, token=staff(client, world, "agent")
        )
    )["referCase"]
    assert again["errors"][0]["code"] == "VALIDATION_FAILED"
    assert await OutboxDelivery.filter(kind="referral").count() == 1


@pytest.mark.parametrize(
    ("who", "code"),
    [("other_agent", "PERMISSION_DENIED"), ("requester", "PERMISSION_DENIED"), ("outsider_agent", "NOT_FOUND")],
)
async def test_only_the_case_agent_or_a_manager_may_refer(
    client: GraphQLClient, world: World, who: str, code: str
) -> None:
    await add_partner(client, world)
    case = await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.OPEN))
    payload = (
        await client.data(
            REFER, {"input": {"caseId": case.id, "partnerCode": PARTNER}}, token=staff(client, world, who)
        )
    )["referCase"]
    assert payload["errors"][0]["code"] == code
    assert await Referral.all().count() == 0 and await OutboxDelivery.all().count() == 0


async def test_a_closed_case_an_unknown_partner_or_a_finished_task_cannot_be_referred(
    client: GraphQLClient, world: World
) -> None:
    await add_partner(client, world)
    closed = await insert_case(world, state=(CaseStage.DECISION, CaseStatus.CLOSED))
    case = await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.OPEN))
    done = await CaseTask.create(case_id=case.id, title="Inspect", state="DONE", created_at=world.clock())
    token = staff(client, world, "agent")
    for values, code in (
        ({"caseId": closed.id, "partnerCode": PARTNER}, "TRANSITION_NOT_ALLOWED"),
        ({"caseId": case.id, "partnerCode": "NOBODY"}, "VALIDATION_FAILED"),
        ({"caseId": case.id, "partnerCode": PARTNER, "taskId": str(done.id)}, "VALIDATION_FAILED"),
        ({"caseId": case.id, "partnerCode": PARTNER, "expectedVersion": 7}, "VERSION_CONFLICT"),
    ):
        payload = (await client.data(REFER, {"input": values}, token=token))["referCase"]
        assert payload["errors"][0]["code"] == code, values
    assert await Referral.all().count() == 0


def received_input(referral_id: str = "6f1c2b1e-8d7a-4c1b-9a55-0c2f1e3d4b5a", **overrides: Any) -> dict[str, Any]:
    return {
        "referralId": referral_id,
        "caseId": "c0ffee00-0000-4000-8000-000000000001",
        "caseNumber": "CS0001234",
        "title": "Mould in flat 3",
        "description": "Tenant reports mould.",
        "impact": 2,
        "urgency": 1,
        "note": "Please inspect",
        "referredBy": "Dana",
        **overrides,
    }


async def test_a_partner_referral_becomes_one_partner_channel_case_however_often_it_arrives(
    client: GraphQLClient, world: World, clock: FakeClock
) -> None:
    await add_partner(client, world)
    token = partner_token(datetime.now(UTC))
    first = (await client.data(RECEIVE, {"input": received_input()}, token=token))["receiveReferral"]
    again = (await client.data(RECEIVE, {"input": received_input()}, token=token))["receiveReferral"]
    assert first["errors"] == [] and first["referral"]["created"] is True and first["referral"]["status"] == "DELIVERED"
    assert again["referral"] == first["referral"] | {"created": False}
    [case] = await Case.all()
    assert str(case.id) == first["referral"]["caseId"]
    assert (case.channel.value, case.referred_agency, case.requester_id, case.status) == (
        "PARTNER",
        PARTNER,
        "partner:HEALTH",
        CaseStatus.NEW,
    )
    assert case.case_type_id == world.case_type_ids["QUESTION"] and case.title == "Mould in flat 3"
    assert "Please inspect" in (case.description or "") and "CS0001234" in (case.description or "")
    # the partner's account sees that case (and only it) through the API
    seen = await client.data("{ cases { edges { node { number channel } } } }", token=token)
    assert seen["cases"]["edges"] == [{"node": {"number": case.number, "channel": "PARTNER"}}]


async def test_partner_tokens_must_be_signed_with_the_shared_secret_for_this_agency_and_fresh(
    client: GraphQLClient, world: World, clock: FakeClock
) -> None:
    await add_partner(client, world)
    real_now = datetime.now(UTC)
    for token in (
        partner_token(real_now, secret="x" * 40),
        partner_token(real_now, receiver="OTHER"),
        partner_token(real_now, sender="WATER"),
        partner_token(real_now - timedelta(hours=1)),
    ):
        response = await client.post(RECEIVE, {"input": received_input()}, token=token)
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # a PARTNER account of an agency not configured as a partner here may not send referrals
    stranger = client.token("water-service", Role.PARTNER, agency="WATER")
    body = await client.execute(RECEIVE, {"input": received_input()}, token=stranger)
    assert body["data"]["receiveReferral"]["errors"][0]["code"] == "PERMISSION_DENIED"
    assert await Case.all().count() == 0


async def test_a_received_referral_is_accepted_by_taking_the_case_and_each_change_is_queued_for_the_referrer(
    client: GraphQLClient, world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    await add_partner(client, world)
    received = (await client.data(RECEIVE, {"input": received_input()}, token=partner_token(datetime.now(UTC))))[
        "receiveReferral"
    ]
    case_id = received["referral"]["caseId"]
    # when: an agent of the type's group takes it, then proposes a solution
    await perform(
        actor=world.actor("agent"),
        request=ActionRequest(CaseAction.ASSIGN_TO_ME, case_id),
        now=clock(),
        publisher=publisher,
    )
    await perform(
        actor=world.actor("agent"),
        request=ActionRequest(
            CaseAction.PROPOSE_SOLUTION,
            case_id,
            command=ProposeSolution(resolution_code=ResolutionCode.SOLVED, resolution_notes="Fixed the leak"),
        ),
        now=clock(),
        publisher=publisher,
    )
    # then: ACCEPTED, and two updates queued for the referrer, in event order, with the state
    assert (await Referral.get(case_id=case_id)).status is ReferralStatus.ACCEPTED
    updates = await OutboxDelivery.filter(kind="referral_update").order_by("event_sequence")
    assert [(u.payload["status"], u.payload["caseStatus"], u.payload["resolutionCode"]) for u in updates] == [
        ("ACCEPTED", "OPEN", None),
        ("ACCEPTED", "RESOLVED", "SOLVED"),
    ]
    assert updates[1].payload["referralId"] == received_input()["referralId"]
    assert updates[1].payload["resolutionNotes"] == "Fixed the leak"
    # and: a comment is not reported
    await perform(
        actor=world.actor("agent"),
        request=ActionRequest(CaseAction.UPDATE, case_id, command=UpdateCase(comment="hi")),
        now=clock(),
        publisher=publisher,
    )
    assert await OutboxDelivery.filter(kind="referral_update").count() == 2


async def test_rejecting_a_received_referral_needs_a_reason_and_cancels_the_case(
    client: GraphQLClient, world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    await add_partner(client, world)
    received = (await client.data(RECEIVE, {"input": received_input()}, token=partner_token(datetime.now(UTC))))[
        "receiveReferral"
    ]
    case_id = received["referral"]["caseId"]
    manager = staff(client, world, "manager")
    refused = (await client.data(DECIDE % "rejectReferral", {"input": {"caseId": case_id}}, token=manager))[
        "rejectReferral"
    ]
    assert refused["errors"][0]["field"] == "reason"
    group_agent = (
        await client.data(
            DECIDE % "rejectReferral",
            {"input": {"caseId": case_id, "reason": "Not ours"}},
            token=staff(client, world, "agent"),
        )
    )["rejectReferral"]
    assert group_agent["errors"][0]["code"] == "PERMISSION_DENIED"
    done = (
        await client.data(
            DECIDE % "rejectReferral", {"input": {"caseId": case_id, "reason": "Not ours"}}, token=manager
        )
    )["rejectReferral"]
    assert done["errors"] == [] and done["referral"] == {"status": "REJECTED", "reason": "Not ours"}
    assert done["case"] == {"status": "CANCELLED", "cancelReason": "Not ours"}
    [update] = await OutboxDelivery.filter(kind="referral_update")
    assert (update.payload["status"], update.payload["reason"], update.payload["caseStatus"]) == (
        "REJECTED",
        "Not ours",
        "CANCELLED",
    )
    # and: accepting afterwards is refused
    late = (await client.data(DECIDE % "acceptReferral", {"input": {"caseId": case_id}}, token=manager))[
        "acceptReferral"
    ]
    assert late["errors"][0]["code"] == "TRANSITION_NOT_ALLOWED"


async def referred(client: GraphQLClient, world: World, *, task: bool = False) -> tuple[str, str, int | None]:
    await add_partner(client, world)
    case = await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.OPEN))
    task_id = None
    values: dict[str, Any] = {"caseId": case.id, "partnerCode": PARTNER}
    if task:
        task_id = (await CaseTask.create(case_id=case.id, title="Inspect", state="OPEN", created_at=world.clock())).id
        values["taskId"] = str(task_id)
    payload = (await client.data(REFER, {"input": values}, token=staff(client, world, "agent")))["referCase"]
    return case.id, payload["referral"]["id"], task_id


def update_input(
    referral_id: str, sequence: int, case_status: str, status: str | None = "ACCEPTED", **overrides: Any
) -> dict[str, Any]:
    return {
        "referralId": referral_id,
        "sequence": sequence,
        "status": status,
        "caseId": "c0ffee00-0000-4000-8000-0000000000aa",
        "caseNumber": "CS0009001",
        "stage": "DECISION" if case_status in ("RESOLVED", "CLOSED") else "INTAKE",
        "caseStatus": case_status,
        "occurredAt": "2026-11-21T10:00:00+00:00",
        **overrides,
    }


async def test_partner_updates_apply_once_never_roll_back_and_show_on_the_referring_case(
    client: GraphQLClient, world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    case_id, referral_id, _ = await referred(client, world)
    token = partner_token(datetime.now(UTC))
    resolved = update_input(referral_id, 9, "RESOLVED", resolutionCode="SOLVED", resolutionNotes="Inspected")
    applied = [
        (await client.data(UPDATE, {"input": values}, token=token))["recordReferralUpdate"]
        for values in (resolved, update_input(referral_id, 5, "OPEN"), resolved)
    ]
    assert [a["applied"] for a in applied] == [True, True, False] and all(a["errors"] == [] for a in applied)
    view = (await client.data(REFERRALS, {"id": case_id}, token=staff(client, world, "agent")))["case"]["referrals"]
    assert view == [
        {
            "id": referral_id,
            "direction": "OUTBOUND",
            "status": "ACCEPTED",
            "partnerCode": PARTNER,
            "remoteCaseNumber": "CS0009001",
            "remoteStatus": "RESOLVED",
            "remoteResolutionCode": "SOLVED",
            "remoteResolutionNotes": "Inspected",
            "reason": None,
            "lastError": None,
        }
    ]
    events = await CaseEvent.filter(case_id=case_id, action="REFERRAL_UPDATE").order_by("sequence")
    assert [e.summary["remoteStatus"] for e in events] == ["RESOLVED", "OPEN"]
    assert [e.sequence for e in publisher.events if e.case_id == case_id][-2:] == [e.sequence for e in events]
    # and: the agent can now propose a solution solved by the partner
    result = await perform(
        actor=world.actor("agent"),
        request=ActionRequest(
            CaseAction.PROPOSE_SOLUTION,
            case_id,
            command=ProposeSolution(
                resolution_code=ResolutionCode.SOLVED_BY_PARTNER, resolution_notes="Health fixed it"
            ),
        ),
        now=clock(),
        publisher=publisher,
    )
    assert result.case.status is CaseStatus.RESOLVED
    # and: the constituent sees neither the referral nor its text
    requester = await client.data(REFERRALS, {"id": case_id}, token=staff(client, world, "requester"))
    assert requester["case"]["referrals"] == []


async def test_only_the_partner_a_referral_went_to_may_report_on_it(
    client: GraphQLClient, world: World, clock: FakeClock
) -> None:
    _, referral_id, _ = await referred(client, world)
    await add_partner(client, world, code="WATER", sharedSecret="w" * 40)
    water = partner_token(datetime.now(UTC), sender="WATER", secret="w" * 40)
    body = (await client.data(UPDATE, {"input": update_input(referral_id, 3, "OPEN")}, token=water))[
        "recordReferralUpdate"
    ]
    assert body["errors"][0]["code"] == "NOT_FOUND"
    agent = await client.data(
        UPDATE, {"input": update_input(referral_id, 3, "OPEN")}, token=staff(client, world, "agent")
    )
    assert agent["recordReferralUpdate"]["errors"][0]["code"] == "PERMISSION_DENIED"
    bad = (
        await client.data(
            UPDATE,
            {"input": update_input(referral_id, 3, "OPEN", status="FAILED")},
            token=partner_token(datetime.now(UTC)),
        )
    )["recordReferralUpdate"]
    assert bad["errors"][0]["field"] == "status"
    assert (await Referral.get(id=referral_id)).status is ReferralStatus.PENDING


async def test_a_referred_task_is_completed_when_the_partner_solves_it(
    client: GraphQLClient, world: World, clock: FakeClock
) -> None:
    case_id, referral_id, task_id = await referred(client, world, task=True)
    token = partner_token(datetime.now(UTC))
    await client.data(
        UPDATE, {"input": update_input(referral_id, 4, "RESOLVED", resolutionCode="NOT_SOLVED_TOO_COSTLY")}, token=token
    )
    assert (await CaseTask.get(id=task_id)).state.value == "OPEN"
    await client.data(UPDATE, {"input": update_input(referral_id, 6, "CLOSED", resolutionCode="SOLVED")}, token=token)
    task = await CaseTask.get(id=task_id)
    assert task.state.value == "DONE" and "HEALTH" in (task.note or "")
