"""A referral's end (issue 14, §6): the referring case's close, cancellation or rejected solution
travels to the partner, whose received case closes with it (as the referring agency's acceptance)
or reopens. Each side against the GraphQL API, the other agency played by partner service tokens
(the round trip between two real instances is tests/referrals/test_two_instances.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from casegraph.domain.commands import Cancel, Close, Command, ProposeSolution, RejectSolution
from casegraph.domain.enums import CaseAction, CaseStage, CaseStatus, ResolutionCode
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.referrals import mark_delivered
from models import CaseEvent, OutboxDelivery, Referral, ReferralStatus
from tests.helpers import FakeClock, GraphQLClient, RecordingPublisher, World, case_row, event_count
from tests.referrals.test_referrals_graphql import RECEIVE, add_partner, partner_token, received_input, referred, staff

OUTCOME = """mutation($input: ReferralOutcomeInput!) {
  recordReferralOutcome(input: $input) { applied errors { code field } } }"""
CASE = """query($id: ID!) { case(id: $id) { status reopenCount availableActions
  comments { body } history { edges { node { action actor { id } } } } } }"""


async def received_and_resolved(
    client: GraphQLClient, world: World, clock: FakeClock, publisher: RecordingPublisher, referral_id: str
) -> str:
    """A partner's referral that our agent took and resolved; our case's id."""
    token = partner_token(datetime.now(UTC))
    received = (await client.data(RECEIVE, {"input": received_input(referral_id)}, token=token))["receiveReferral"]
    case_id: str = received["referral"]["caseId"]
    await perform(
        actor=world.actor("agent"),
        request=ActionRequest(CaseAction.ASSIGN_TO_ME, case_id),
        now=clock(),
        publisher=publisher,
    )
    await resolve(world, clock, publisher, case_id)
    return case_id


async def resolve(world: World, clock: FakeClock, publisher: RecordingPublisher, case_id: str) -> None:
    await perform(
        actor=world.actor("agent"),
        request=ActionRequest(
            CaseAction.PROPOSE_SOLUTION,
            case_id,
            command=ProposeSolution(resolution_code=ResolutionCode.SOLVED, resolution_notes="Mould treated."),
        ),
        now=clock(),
        publisher=publisher,
    )


async def outcome(client: GraphQLClient, referral_id: str, sequence: int, verdict: str, **extra: Any) -> dict[str, Any]:
    values = {"referralId": referral_id, "sequence": sequence, "outcome": verdict, **extra}
    data = await client.data(OUTCOME, {"input": values}, token=partner_token(datetime.now(UTC)))
    result: dict[str, Any] = data["recordReferralOutcome"]
    return result


async def test_the_referrers_acceptance_closes_the_received_case_once(
    client: GraphQLClient, world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: a referral from HEALTH that our agent resolved
    await add_partner(client, world)
    referral_id = received_input()["referralId"]
    case_id = await received_and_resolved(client, world, clock, publisher, referral_id)
    # when: HEALTH's case closes, and its outbox says so twice
    first = await outcome(client, referral_id, 40, "ACCEPTED")
    again = await outcome(client, referral_id, 40, "ACCEPTED")
    events = await event_count(case_id)
    # then: ours is closed as the referring agency's acceptance, once
    assert first == {"applied": True, "errors": []} and again == {"applied": False, "errors": []}
    case = (await client.data(CASE, {"id": case_id}, token=staff(client, world, "agent")))["case"]
    assert case["status"] == "CLOSED"
    last = case["history"]["edges"][-1]["node"]
    assert last == {"action": "ACCEPT_SOLUTION", "actor": {"id": "partner:HEALTH"}}
    assert await event_count(case_id) == events
    # and: HEALTH hears of the close like of any change
    closed = await OutboxDelivery.filter(kind="referral_update").order_by("-event_sequence").first()
    assert closed is not None and closed.payload["caseStatus"] == "CLOSED"


async def test_a_rejection_at_the_referrer_reopens_the_received_case_and_a_later_close_closes_it(
    client: GraphQLClient, world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    await add_partner(client, world)
    referral_id = received_input()["referralId"]
    case_id = await received_and_resolved(client, world, clock, publisher, referral_id)
    # when: HEALTH's requester rejects the solution
    rejected = await outcome(client, referral_id, 50, "REJECTED", reason="Still smells.")
    stale = await outcome(client, referral_id, 45, "ACCEPTED")  # older, arriving late: ignored
    # then: our case is open again, with the referrer's reason, and our agent may resolve it again
    agent = staff(client, world, "agent")
    reopened = (await client.data(CASE, {"id": case_id}, token=agent))["case"]
    assert rejected["applied"] is True and stale["applied"] is False
    assert (reopened["status"], reopened["reopenCount"]) == ("OPEN", 1)
    assert "Still smells." in reopened["comments"][-1]["body"] and "PROPOSE_SOLUTION" in reopened["availableActions"]
    # when: resolved again and accepted this time
    await resolve(world, clock, publisher, case_id)
    closed = await outcome(client, referral_id, 60, "ACCEPTED")
    # then
    assert closed["applied"] is True
    assert (await client.data(CASE, {"id": case_id}, token=agent))["case"]["status"] == "CLOSED"


async def test_the_referring_case_cancelled_closes_an_unresolved_received_case(
    client: GraphQLClient, world: World
) -> None:
    # given: a received referral nobody has worked on yet
    await add_partner(client, world)
    referral_id = received_input()["referralId"]
    received = (
        await client.data(RECEIVE, {"input": received_input(referral_id)}, token=partner_token(datetime.now(UTC)))
    )["receiveReferral"]
    # when
    withdrawn = await outcome(client, referral_id, 7, "WITHDRAWN")
    # then: the referring agency, our requester, withdrew it
    case = (await client.data(CASE, {"id": received["referral"]["caseId"]}, token=staff(client, world, "agent")))[
        "case"
    ]
    assert withdrawn["applied"] is True and case["status"] == "CLOSED"
    assert case["history"]["edges"][-1]["node"]["action"] == "CLOSE"


async def test_only_the_referring_partner_reports_an_outcome_and_only_of_its_own_referral(
    client: GraphQLClient, world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    await add_partner(client, world)
    referral_id = received_input()["referralId"]
    case_id = await received_and_resolved(client, world, clock, publisher, referral_id)
    # when
    unknown = await outcome(client, "00000000-0000-4000-8000-000000000000", 3, "ACCEPTED")
    by_agent = await client.data(
        OUTCOME,
        {"input": {"referralId": referral_id, "sequence": 3, "outcome": "ACCEPTED"}},
        token=staff(client, world, "agent"),
    )
    # then: nothing changes
    assert unknown["errors"] == [{"code": "NOT_FOUND", "field": None}]
    assert by_agent["recordReferralOutcome"]["errors"][0]["code"] == "PERMISSION_DENIED"
    assert (await client.data(CASE, {"id": case_id}, token=staff(client, world, "agent")))["case"][
        "status"
    ] == "RESOLVED"


async def test_the_referring_side_queues_the_outcome_for_each_partner_holding_the_case(
    client: GraphQLClient, world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: our case referred to HEALTH, delivered; dana resolves it with the partner's answer
    case_id, referral_id, _ = await referred(client, world)
    await Referral.filter(id=referral_id).update(status=ReferralStatus.DELIVERED, remote_case_id="remote-1")
    await resolve(world, clock, publisher, case_id)
    alice = world.actor("requester")
    # when: alice rejects it, it is resolved again, and she accepts
    await perform(
        actor=alice,
        request=ActionRequest(CaseAction.REJECT_SOLUTION, case_id, command=RejectSolution(reason="Still wet.")),
        now=clock(),
        publisher=publisher,
    )
    await resolve(world, clock, publisher, case_id)
    await perform(
        actor=alice, request=ActionRequest(CaseAction.ACCEPT_SOLUTION, case_id), now=clock(), publisher=publisher
    )
    # then: two outcome messages for HEALTH, in event order, naming our referral
    messages = await OutboxDelivery.filter(kind="referral_outcome").order_by("event_sequence")
    assert [(m.payload["outcome"], m.payload["reason"]) for m in messages] == [
        ("REJECTED", "Still wet."),
        ("ACCEPTED", None),
    ]
    assert {m.payload["referralId"] for m in messages} == {referral_id}
    events = await CaseEvent.filter(case_id=case_id, action__in=["REJECT_SOLUTION", "ACCEPT_SOLUTION"]).order_by(
        "sequence"
    )
    assert [m.payload["sequence"] for m in messages] == [e.sequence for e in events]
    assert (await case_row(case_id)).state == (CaseStage.DECISION, CaseStatus.CLOSED)


@pytest.mark.parametrize(
    ("action", "command", "expected"),
    [
        (CaseAction.CANCEL, Cancel(reason="Sorted it out myself."), "WITHDRAWN"),
        (CaseAction.CLOSE, Close(resolution_notes="Done here."), "ACCEPTED"),
    ],
    ids=["cancelled", "closed"],
)
async def test_a_referring_case_that_ends_before_its_referral_is_delivered_sends_the_outcome_after_the_delivery(
    client: GraphQLClient,
    world: World,
    clock: FakeClock,
    publisher: RecordingPublisher,
    action: CaseAction,
    command: Command,
    expected: str,
) -> None:
    # given: our case referred to HEALTH, the referral still waiting for its delivery
    case_id, referral_id, _ = await referred(client, world)
    who = world.actor("requester" if action is CaseAction.CANCEL else "agent")
    # when: the case ends meanwhile
    await perform(actor=who, request=ActionRequest(action, case_id, command=command), now=clock(), publisher=publisher)
    # then: nothing to tell the partner yet (it has no case for it)
    assert await OutboxDelivery.filter(kind="referral_outcome").count() == 0
    # when: the referral is delivered after all
    await mark_delivered(
        referral_id=uuid.UUID(referral_id),
        remote_case_id="remote-1",
        remote_case_number="HS0000001",
        now=clock(),
        publisher=publisher,
    )
    # then: the outcome follows the referral, with the sequence of the delivery's event
    messages = await OutboxDelivery.filter(referral_id=referral_id).order_by("event_sequence")
    assert [message.kind for message in messages] == ["referral", "referral_outcome"]
    outcome_message = messages[1].payload
    assert outcome_message["outcome"] == expected and outcome_message["referralId"] == referral_id
    delivered = await CaseEvent.filter(case_id=case_id, action="REFERRAL_UPDATE").order_by("-sequence").first()
    assert delivered is not None and outcome_message["sequence"] == delivered.sequence == messages[1].event_sequence
    # and: a second report of the delivery queues nothing more
    await mark_delivered(
        referral_id=uuid.UUID(referral_id),
        remote_case_id="remote-1",
        remote_case_number="HS0000001",
        now=clock(),
        publisher=publisher,
    )
    assert await OutboxDelivery.filter(kind="referral_outcome").count() == 1


async def test_a_referral_delivered_while_its_case_is_open_queues_no_outcome(
    client: GraphQLClient, world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    _, referral_id, _ = await referred(client, world)
    # when
    await mark_delivered(
        referral_id=uuid.UUID(referral_id),
        remote_case_id="remote-1",
        remote_case_number="HS0000001",
        now=clock(),
        publisher=publisher,
    )
    # then
    assert await OutboxDelivery.filter(kind="referral_outcome").count() == 0
    assert (await Referral.get(id=referral_id)).status is ReferralStatus.DELIVERED
