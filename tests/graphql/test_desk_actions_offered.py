"""``availableActions`` and the desk actions' mutations agree (issue 14, §6), generated from
``domain/desk_actions.DESK_RULES``: for every desk action, every viewer relation and a spread of
states, the action is offered exactly when its mutation, sent with well-formed input, is accepted
(a dashboard drawing its buttons from availableActions then never offers one the server refuses)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from casegraph.domain import lifecycle as lc
from casegraph.domain.desk_actions import DESK_RULES
from casegraph.domain.enums import CaseAction, Channel
from casegraph.services.records import CaseRecord
from casegraph.settings import Settings
from models import Case, CaseStep, PartnerAgency, Referral, ReferralDirection, ReferralStatus
from tests.helpers import GraphQLClient, World, insert_case
from tests.referrals.test_referrals_graphql import add_partner

ERRORS = "errors { code field }"
REFUSALS = {"PERMISSION_DENIED", "TRANSITION_NOT_ALLOWED", "NOT_FOUND"}
VIEWERS = ["agent", "manager", "other_agent", "requester"]  # assignee, manager, group agent, requester
STATES = [lc.INTAKE_NEW, lc.REVIEW_OPEN, lc.PROCESS_AWAITING, lc.RESOLVED, lc.CLOSED]
# Mutations whose input type is not named after them.
SHARED_INPUTS = {"acceptReferral": "DecideReferralInput", "rejectReferral": "DecideReferralInput"}
OFFERED_QUERY = "query Offered($id: ID!) { case(id: $id) { availableActions } }"

Setup = Callable[[GraphQLClient, World, Settings, CaseRecord], Awaitable[tuple[str, dict[str, Any]]]]


async def _refer(
    client: GraphQLClient, world: World, settings: Settings, case: CaseRecord
) -> tuple[str, dict[str, Any]]:
    return "referCase", {"caseId": case.id, "partnerCode": "HEALTH"}


async def _link(
    client: GraphQLClient, world: World, settings: Settings, case: CaseRecord
) -> tuple[str, dict[str, Any]]:
    maria = world.token(settings, "manager")
    created = await client.data(
        "mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id } errors { code } } }",
        {"input": {"title": "Reporting potholes", "body": "How we fix them."}},
        token=maria,
    )
    article_id = created["createArticle"]["article"]["id"]
    published = await client.data(
        "mutation($input: PublishArticleInput!) { publishArticle(input: $input) { errors { code } } }",
        {"input": {"articleId": article_id}},
        token=maria,
    )
    assert published["publishArticle"]["errors"] == []
    return "linkArticle", {"caseId": case.id, "articleId": article_id}


async def _duplicate(
    client: GraphQLClient, world: World, settings: Settings, case: CaseRecord
) -> tuple[str, dict[str, Any]]:
    original = await insert_case(world, state=lc.REVIEW_OPEN, requester="other_constituent")
    return "markDuplicate", {"caseId": case.id, "duplicateOfId": original.id}


async def _step(
    client: GraphQLClient, world: World, settings: Settings, case: CaseRecord
) -> tuple[str, dict[str, Any]]:
    step = await CaseStep.create(
        case_id=case.id,
        stage=case.stage,
        position=1,
        title="Call the requester",
        required=False,
        created_at=world.clock(),
    )
    return "completeStep", {"stepId": str(step.id)}


async def _split(
    client: GraphQLClient, world: World, settings: Settings, case: CaseRecord
) -> tuple[str, dict[str, Any]]:
    return "splitCase", {"caseId": case.id, "children": [{"caseTypeCode": "POTHOLE", "title": "The other hole"}]}


async def _received(case: CaseRecord, world: World) -> None:
    """Make the case one HEALTH referred to us, its referral awaiting our decision."""
    partner = await PartnerAgency.get(code="HEALTH")
    await Case.filter(id=case.id).update(channel=Channel.PARTNER, referred_agency="HEALTH")
    now = world.clock()
    await Referral.create(
        id=uuid.uuid4(),
        direction=ReferralDirection.INBOUND,
        partner_id=partner.id,
        case_id=case.id,
        remote_referral_id=uuid.uuid4(),
        status=ReferralStatus.DELIVERED,
        created_at=now,
        updated_at=now,
        delivered_at=now,
    )


async def _accept_referral(
    client: GraphQLClient, world: World, settings: Settings, case: CaseRecord
) -> tuple[str, dict[str, Any]]:
    await _received(case, world)
    return "acceptReferral", {"caseId": case.id}


async def _reject_referral(
    client: GraphQLClient, world: World, settings: Settings, case: CaseRecord
) -> tuple[str, dict[str, Any]]:
    await _received(case, world)
    return "rejectReferral", {"caseId": case.id, "reason": "Not ours."}


SETUPS: dict[CaseAction, Setup] = {
    CaseAction.REFER: _refer,
    CaseAction.LINK_ARTICLE: _link,
    CaseAction.MARK_DUPLICATE: _duplicate,
    CaseAction.COMPLETE_STEP: _step,
    CaseAction.SPLIT_CASE: _split,
    CaseAction.ACCEPT_REFERRAL: _accept_referral,
    CaseAction.REJECT_REFERRAL: _reject_referral,
}


def test_every_desk_action_has_a_mutation_here() -> None:
    assert set(SETUPS) == set(DESK_RULES)


@pytest.mark.parametrize("action", list(DESK_RULES), ids=lambda a: a.value)
async def test_a_desk_action_is_offered_exactly_when_its_mutation_is_accepted(
    client: GraphQLClient, world: World, settings: Settings, action: CaseAction
) -> None:
    # given: a partner agency to refer to
    await add_partner(client, world)
    verdicts: dict[tuple[str, str], tuple[bool, str]] = {}
    for state in STATES:
        for viewer in VIEWERS:
            # given: a fresh case in the state, assigned to dana, and the action's input
            case = await insert_case(world, state=state)
            field, values = await SETUPS[action](client, world, settings, case)
            token = world.token(settings, viewer)
            offered = (
                action.value
                in (await client.data(OFFERED_QUERY, {"id": case.id}, token=token))["case"]["availableActions"]
            )
            # when
            input_type = SHARED_INPUTS.get(field, field[0].upper() + field[1:] + "Input")
            payload = (
                await client.data(
                    f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ {ERRORS} }} }}",
                    {"input": values},
                    token=token,
                )
            )[field]
            codes = {e["code"] for e in payload["errors"]}
            # then (collected, so a failure shows every disagreement at once)
            verdicts[(state[1].value, viewer)] = (offered, ",".join(sorted(codes)) or "accepted")
    disagreements = {
        where: (offered, outcome)
        for where, (offered, outcome) in verdicts.items()
        if offered != (outcome == "accepted") or not (outcome == "accepted" or set(outcome.split(",")) <= REFUSALS)
    }
    assert disagreements == {}
    assert any(offered for offered, _ in verdicts.values())  # the table offers it to someone somewhere
