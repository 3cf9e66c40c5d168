"""Survey results over GraphQL: count, average and distribution per case type, agent, group and
period, breakdowns by agent and case type, a paginated list; managers see their groups, admins
everything, agents only their own cases, others nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from casegraph.domain import lifecycle as lc
from casegraph.settings import Settings
from tests.helpers import FakeClock, GraphQLClient, World, insert_case

SURVEY_RESULTS_QUERY = """
query SurveyResults($filter: SurveyResultsFilter, $first: Int, $after: String) {
  surveyResults(filter: $filter) {
    count
    averageRating
    distribution { rating count }
    byAgent { count averageRating agent { id } }
    byCaseType { count averageRating caseType { code } }
    surveys(first: $first, after: $after) {
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { rating comment submittedAt case { id } } }
    }
  }
}
"""
SUBMIT_SURVEY_MUTATION = """
mutation SubmitSurvey($input: SubmitSurveyInput!) { submitSurvey(input: $input) { errors { code } } }
"""
CASE_SURVEY_QUERY = "query Case($id: ID!) { case(id: $id) { survey { rating comment } } }"


@pytest.fixture
def token(world: World, settings: Settings) -> Callable[[str], str]:
    return lambda who: world.token(settings, who)


async def rated(
    client: GraphQLClient,
    world: World,
    token: Callable[[str], str],
    rating: int,
    *,
    agent: str | None = "agent",
    case_type: str = "POTHOLE",
    requester: str = "requester",
    comment: str | None = None,
) -> str:
    """A case closed by its requester accepting the solution, then rated by them; returns its id."""
    case = await insert_case(
        world, state=lc.CLOSED, solution_accepted=True, assigned_to=agent, case_type=case_type, requester=requester
    )
    data = await client.data(
        SUBMIT_SURVEY_MUTATION,
        {"input": {"caseId": case.id, "rating": rating, "comment": comment}},
        token=token(requester),
    )
    assert data["submitSurvey"]["errors"] == []
    return case.id


async def results(client: GraphQLClient, token: str, **variables: Any) -> dict[str, Any]:
    data = await client.data(SURVEY_RESULTS_QUERY, variables, token=token)
    found: dict[str, Any] = data["surveyResults"]
    return found


def top_level_code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return str(body["errors"][0]["extensions"]["code"])


def distribution(found: dict[str, Any]) -> list[int]:
    return [entry["count"] for entry in found["distribution"]]


@pytest.fixture
async def surveyed(client: GraphQLClient, world: World, token: Callable[[str], str]) -> dict[str, list[str]]:
    """Roads: dana 5, 4, 4 (potholes) and 2 (a question); eli 1. Benefits: grace 3."""
    return {
        "dana": [
            await rated(client, world, token, 5, comment="Quick."),
            await rated(client, world, token, 4),
            await rated(client, world, token, 4, requester="other_constituent"),
            await rated(client, world, token, 2, case_type="QUESTION"),
        ],
        "eli": [await rated(client, world, token, 1, agent="other_agent", comment="Nobody came.")],
        "grace": [await rated(client, world, token, 3, agent="outsider_agent", case_type="PAYMENT")],
    }


async def test_a_manager_sees_count_average_and_distribution_of_their_groups(
    client: GraphQLClient, token: Callable[[str], str], surveyed: dict[str, list[str]]
) -> None:
    # given / when
    found = await results(client, token("manager"))
    # then Benefits' survey is not among them
    assert (found["count"], found["averageRating"]) == (5, 3.2)
    assert distribution(found) == [1, 1, 0, 2, 1]
    assert [entry["rating"] for entry in found["distribution"]] == [1, 2, 3, 4, 5]


async def test_results_filter_by_case_type_agent_group_and_period(
    client: GraphQLClient,
    world: World,
    clock: FakeClock,
    token: Callable[[str], str],
    surveyed: dict[str, list[str]],
) -> None:
    # given a later survey, a day after the others
    start = clock.now
    clock.advance(timedelta(days=1))
    await rated(client, world, token, 5, agent="other_agent")
    ada = token("admin")
    # when / then
    assert (await results(client, ada, filter={"caseTypeCode": "POTHOLE"}))["count"] == 5
    assert (await results(client, ada, filter={"caseTypeCode": "QUESTION"}))["averageRating"] == 2.0
    assert (await results(client, ada, filter={"caseTypeCode": "NOPE"}))["count"] == 0
    by_eli = await results(client, ada, filter={"agentId": world.sub("other_agent")})
    assert (by_eli["count"], by_eli["averageRating"], distribution(by_eli)) == (2, 3.0, [1, 0, 0, 0, 1])
    assert (await results(client, ada, filter={"groupCode": "BENEFITS"}))["count"] == 1
    later = await results(client, ada, filter={"from": (start + timedelta(hours=12)).isoformat()})
    assert (later["count"], later["averageRating"]) == (1, 5.0)
    earlier = await results(
        client, ada, filter={"to": (start + timedelta(hours=12)).isoformat(), "caseTypeCode": "POTHOLE"}
    )
    assert (earlier["count"], earlier["averageRating"]) == (4, 3.5)
    empty = await results(client, ada, filter={"agentId": "nobody"})
    assert (empty["count"], empty["averageRating"], distribution(empty)) == (0, None, [0, 0, 0, 0, 0])


async def test_a_case_type_or_group_code_no_row_can_have_counts_no_survey(
    client: GraphQLClient, token: Callable[[str], str], surveyed: dict[str, list[str]]
) -> None:
    # given: codes longer than their column, or holding NUL (which PostgreSQL text cannot hold)
    ada = token("admin")
    unmatched = [
        {"caseTypeCode": "POTHOLE" + "X" * 60},
        {"caseTypeCode": "POTHOLE\x00"},
        {"groupCode": "R" * 30_000},
        {"groupCode": "ROADS\x00"},
    ]
    # when / then: as for a code nothing has
    for flt in unmatched:
        found = await results(client, ada, filter=flt)
        assert (found["count"], found["averageRating"], found["surveys"]["edges"]) == (0, None, []), flt


async def test_results_break_down_by_agent_and_by_case_type(
    client: GraphQLClient, world: World, token: Callable[[str], str], surveyed: dict[str, list[str]]
) -> None:
    # given / when
    found = await results(client, token("admin"))
    # then
    assert [(b["agent"]["id"], b["count"], b["averageRating"]) for b in found["byAgent"]] == [
        (world.sub("agent"), 4, 3.75),
        (world.sub("other_agent"), 1, 1.0),
        (world.sub("outsider_agent"), 1, 3.0),
    ]
    assert sorted((b["caseType"]["code"], b["count"], b["averageRating"]) for b in found["byCaseType"]) == [
        ("PAYMENT", 1, 3.0),
        ("POTHOLE", 4, 3.5),
        ("QUESTION", 1, 2.0),
    ]


async def test_an_agent_sees_only_the_results_of_their_own_cases(
    client: GraphQLClient, world: World, token: Callable[[str], str], surveyed: dict[str, list[str]]
) -> None:
    # given
    dana = token("agent")
    # when
    own = await results(client, dana)
    asked_for_self = await results(client, dana, filter={"agentId": world.sub("agent")})
    asked_for_other = await client.execute(
        SURVEY_RESULTS_QUERY, {"filter": {"agentId": world.sub("other_agent")}}, token=dana
    )
    # then
    assert (
        (own["count"], own["averageRating"]) == (4, 3.75) == (asked_for_self["count"], asked_for_self["averageRating"])
    )
    assert {edge["node"]["case"]["id"] for edge in own["surveys"]["edges"]} == set(surveyed["dana"])
    assert top_level_code(asked_for_other) == "PERMISSION_DENIED"


@pytest.mark.parametrize("who", ["requester", "field_agent"])
async def test_constituents_and_field_agents_see_no_survey_results(
    client: GraphQLClient, token: Callable[[str], str], surveyed: dict[str, list[str]], who: str
) -> None:
    # given / when
    body = await client.execute(SURVEY_RESULTS_QUERY, {}, token=token(who))
    # then
    assert top_level_code(body) == "PERMISSION_DENIED"


async def test_a_manager_of_another_group_sees_only_that_groups_results(
    client: GraphQLClient, token: Callable[[str], str], surveyed: dict[str, list[str]]
) -> None:
    # given / when
    found = await results(client, token("outsider_manager"))
    # then
    assert (found["count"], found["averageRating"]) == (1, 3.0)
    assert [edge["node"]["case"]["id"] for edge in found["surveys"]["edges"]] == surveyed["grace"]


async def test_the_survey_list_pages_newest_first_with_every_survey_once(
    client: GraphQLClient, token: Callable[[str], str], surveyed: dict[str, list[str]]
) -> None:
    # given
    ada = token("admin")
    # when paging two at a time
    seen: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = (await results(client, ada, first=2, after=after))["surveys"]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then
    assert len(seen) == 6
    assert [node["submittedAt"] for node in seen] == sorted((node["submittedAt"] for node in seen), reverse=True)
    assert seen[-1]["comment"] == "Quick." and seen[-1]["rating"] == 5


async def test_a_bad_period_or_cursor_is_refused(
    client: GraphQLClient, token: Callable[[str], str], surveyed: dict[str, list[str]]
) -> None:
    # given
    ada = token("admin")
    # when
    backwards = await client.execute(
        SURVEY_RESULTS_QUERY, {"filter": {"from": "2026-12-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}}, token=ada
    )
    bad_cursor = await client.execute(SURVEY_RESULTS_QUERY, {"after": "nope"}, token=ada)
    # cursors of the right shape whose values the database could not compare
    forged = [
        await client.execute(SURVEY_RESULTS_QUERY, {"after": cursor}, token=ada)
        for cursor in (
            base64.urlsafe_b64encode(json.dumps(["2026-11-01T00:00:00+00:00", 2**40]).encode()).decode(),
            base64.urlsafe_b64encode(json.dumps(["2026-11-01T00:00:00", 1]).encode()).decode(),
        )
    ]
    # then
    assert top_level_code(backwards) == "VALIDATION_FAILED"
    assert top_level_code(bad_cursor) == "VALIDATION_FAILED"
    assert [top_level_code(body) for body in forged] == ["VALIDATION_FAILED"] * 2


async def test_each_case_shows_its_own_survey(
    client: GraphQLClient, token: Callable[[str], str], surveyed: dict[str, list[str]]
) -> None:
    # given / when
    seen = await client.data(CASE_SURVEY_QUERY, {"id": surveyed["eli"][0]}, token=token("manager"))
    # then
    assert seen["case"]["survey"] == {"rating": 1, "comment": "Nobody came."}
