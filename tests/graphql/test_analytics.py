"""Desk analytics over GraphQL: open cases per dimension, backlog per day and week, first response
and resolution times with percentiles, SLA compliance, reopen rate, CSAT and agent workload, each
with the date range and group filter; who may see which groups; and a statement count that does
not grow with the number of cases.

Cases are walked through their life cycle by the services at exact times, so every number below
is known in advance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from casegraph.database.counters import next_value
from casegraph.domain import commands
from casegraph.domain import lifecycle as lc
from casegraph.domain.enums import CaseAction, CaseStage, CaseStatus, ResolutionCode, Role
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.sla_config import set_sla_policy
from casegraph.services.sla_evaluation import evaluate_due
from casegraph.settings import Settings
from models import Case, CaseEvent, CaseTimer, Survey
from tests.helpers import GraphQLClient, RecordingPublisher, World, counted_statements, insert_case

# A frozen value shared by every call, so a default argument is safe.
NO_INPUT = commands.NoInput()

T0 = datetime(2026, 11, 2, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

ANALYTICS_QUERY = """
query Analytics($filter: AnalyticsFilterInput, $by: [OpenCaseDimension!]!, $interval: BacklogInterval!) {
  analytics(filter: $filter) {
    openCases(by: $by) { stage status priority group { code } caseType { code } count }
    backlog(interval: $interval) { start end opened reopened resolved cancelled openAtEnd }
    firstResponseTime { count meanSeconds minSeconds maxSeconds p50Seconds p90Seconds p95Seconds }
    resolutionTime { count meanSeconds minSeconds maxSeconds p50Seconds p90Seconds p95Seconds }
    slaCompliance { caseType { code } priority kind met breached inProgress complianceRate }
    reopenRate { resolvedCases reopenedCases rate }
    satisfaction { count averageRating distribution { rating count } }
    agentWorkload { agent { id name } openCases resolvedCases meanResolutionSeconds surveyCount averageRating }
  }
}
"""


def only(field: str, arguments: str = "") -> str:
    """A query asking for one aggregate: ``only("backlog", "(interval: DAY)")``."""
    selections = {
        "openCases": "stage status priority group { code } caseType { code } count",
        "backlog": "start end opened reopened resolved cancelled openAtEnd",
        "firstResponseTime": "count meanSeconds minSeconds maxSeconds p50Seconds p90Seconds p95Seconds",
        "resolutionTime": "count meanSeconds minSeconds maxSeconds p50Seconds p90Seconds p95Seconds",
        "slaCompliance": "caseType { code } priority kind met breached inProgress complianceRate",
        "reopenRate": "resolvedCases reopenedCases rate",
        "satisfaction": "count averageRating distribution { rating count }",
        "agentWorkload": "agent { id } openCases resolvedCases meanResolutionSeconds surveyCount averageRating",
    }
    return (
        "query Analytics($filter: AnalyticsFilterInput) {"
        f" analytics(filter: $filter) {{ {field}{arguments} {{ {selections[field]} }} }} }}"
    )


def window(start: datetime | None = None, end: datetime | None = None, **rest: Any) -> dict[str, Any]:
    flt: dict[str, Any] = dict(rest)
    if start is not None:
        flt["from"] = start.isoformat()
    if end is not None:
        flt["to"] = end.isoformat()
    return flt


class Desk:
    """The test's hands: services at exact times to make history, GraphQL to read analytics."""

    def __init__(self, client: GraphQLClient, world: World, settings: Settings) -> None:
        self.client, self.world, self.settings = client, world, settings
        self.publisher = RecordingPublisher()

    async def file(
        self, at: datetime, case_type: str = "QUESTION", *, impact: int = 2, urgency: int = 2, submit: bool = True
    ) -> str:
        result = await create_case(
            actor=self.world.actor("requester"),
            new=NewCase(
                case_type_code=case_type, title="Where is my permit?", impact=impact, urgency=urgency, submit=submit
            ),
            now=at,
            publisher=self.publisher,
        )
        return result.case.id

    async def act(
        self, who: str, action: CaseAction, case_id: str, at: datetime, command: commands.Command = NO_INPUT
    ) -> None:
        await perform(
            actor=self.world.actor(who),
            request=ActionRequest(action, case_id, command=command),
            now=at,
            publisher=self.publisher,
        )

    async def take(self, case_id: str, at: datetime, who: str = "agent") -> None:
        await self.act(who, CaseAction.ASSIGN_TO_ME, case_id, at)

    async def resolve(self, case_id: str, at: datetime, who: str = "agent") -> None:
        await self.act(
            who,
            CaseAction.PROPOSE_SOLUTION,
            case_id,
            at,
            commands.ProposeSolution(resolution_code=ResolutionCode.SOLVED, resolution_notes="Sent the permit again."),
        )

    async def reject(self, case_id: str, at: datetime) -> None:
        await self.act(
            "requester", CaseAction.REJECT_SOLUTION, case_id, at, commands.RejectSolution(reason="Still nothing.")
        )

    async def accept(self, case_id: str, at: datetime) -> None:
        await self.act("requester", CaseAction.ACCEPT_SOLUTION, case_id, at)

    async def rate(self, case_id: str, rating: int, at: datetime) -> None:
        await self.act("requester", CaseAction.SUBMIT_SURVEY, case_id, at, commands.SubmitSurvey(rating=rating))

    async def body(self, query: str, who: str = "admin", **variables: Any) -> dict[str, Any]:
        return await self.client.execute(query, variables, token=self.world.token(self.settings, who))

    async def analytics(self, field: str, arguments: str = "", who: str = "admin", **flt: Any) -> Any:
        body = await self.body(only(field, arguments), who, filter=flt or None)
        assert not body.get("errors"), body["errors"]
        return body["data"]["analytics"][field]

    async def refusal(self, field: str, arguments: str = "", who: str = "admin", **flt: Any) -> str:
        body = await self.body(only(field, arguments), who, filter=flt or None)
        assert body["data"] is None or body["data"]["analytics"] is None, body
        return str(body["errors"][0]["extensions"]["code"])


@pytest.fixture
def desk(client: GraphQLClient, world: World, settings: Settings) -> Desk:
    return Desk(client, world, settings)


# --- open cases ------------------------------------------------------------------------------------


@pytest.fixture
async def open_desk(world: World) -> None:
    """Roads: NEW ×2 (one of priority 1), REVIEW/OPEN, AWAITING_INFO (a question), and a resolved,
    a closed, a deleted and a draft case; Benefits: one OPEN payment case."""
    urgent = await insert_case(world)
    await Case.filter(id=urgent.id).update(priority=1)
    await insert_case(world)
    await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.OPEN))
    await insert_case(world, case_type="QUESTION", state=(CaseStage.INTAKE, CaseStatus.AWAITING_INFO))
    await insert_case(world, case_type="QUESTION", state=lc.RESOLVED)
    await insert_case(world, state=lc.CLOSED)
    await insert_case(world, deleted=True)
    await insert_case(world, state=(CaseStage.DRAFT, CaseStatus.DRAFT), assigned_to=None)
    await insert_case(
        world, case_type="PAYMENT", state=(CaseStage.INTAKE, CaseStatus.OPEN), assigned_to="outsider_agent"
    )


def keyed(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        tuple(value["code"] if isinstance(value, dict) else value for value in row.values() if value is not None)
        for row in rows
    ]


async def test_open_cases_are_counted_per_stage_and_status_without_resolved_deleted_or_draft_cases(
    desk: Desk, open_desk: None
) -> None:
    # when
    rows = await desk.analytics("openCases", "(by: [STATUS, STAGE])")
    # then rows come in life-cycle order, the dimensions not asked for left null
    assert keyed(rows) == [
        ("INTAKE", "NEW", 2),
        ("INTAKE", "OPEN", 1),
        ("INTAKE", "AWAITING_INFO", 1),
        ("REVIEW", "OPEN", 1),
    ]
    assert {row["priority"] for row in rows} == {None}


async def test_open_cases_are_counted_per_group_priority_case_type_or_in_total(desk: Desk, open_desk: None) -> None:
    # when / then
    assert keyed(await desk.analytics("openCases", "(by: [GROUP])")) == [("ROADS", 4), ("BENEFITS", 1)]
    assert keyed(await desk.analytics("openCases", "(by: [PRIORITY])")) == [(1, 1), (3, 4)]
    assert keyed(await desk.analytics("openCases", "(by: [CASE_TYPE, GROUP])")) == [
        ("ROADS", "POTHOLE", 3),
        ("ROADS", "QUESTION", 1),
        ("BENEFITS", "PAYMENT", 1),
    ]
    assert keyed(await desk.analytics("openCases", "(by: [])")) == [(5,)]


async def test_open_cases_follow_the_group_filter_and_the_viewers_groups(desk: Desk, open_desk: None) -> None:
    # when / then
    assert keyed(await desk.analytics("openCases", "(by: [])", groupCodes=["BENEFITS"])) == [(1,)]
    assert keyed(await desk.analytics("openCases", "(by: [])", caseTypeCodes=["QUESTION"])) == [(1,)]
    assert keyed(await desk.analytics("openCases", "(by: [])", who="agent")) == [(4,)]
    assert keyed(await desk.analytics("openCases", "(by: [GROUP])", who="outsider_manager")) == [("BENEFITS", 1)]


# --- backlog ---------------------------------------------------------------------------------------


@pytest.fixture
async def backlog_desk(desk: Desk) -> dict[str, str]:
    """Day −1: D filed and taken. Day 0: A and B filed, F saved as a draft. Day 1: A resolved,
    B cancelled, C filed, E (Benefits) filed. Day 2: A reopened and resolved again, D closed by its
    agent, F submitted. Day 3: A's solution accepted."""
    cases = {}
    cases["D"] = await desk.file(T0 - DAY + 12 * HOUR)
    await desk.take(cases["D"], T0 - DAY + 13 * HOUR)
    cases["A"] = await desk.file(T0 + 10 * HOUR)
    await desk.take(cases["A"], T0 + 11 * HOUR)
    cases["B"] = await desk.file(T0 + 12 * HOUR)
    cases["F"] = await desk.file(T0 + 9 * HOUR, submit=False)
    await desk.resolve(cases["A"], T0 + DAY + 9 * HOUR)
    await desk.act("requester", CaseAction.CANCEL, cases["B"], T0 + DAY + 10 * HOUR)
    cases["C"] = await desk.file(T0 + DAY + 8 * HOUR)
    cases["E"] = await desk.file(T0 + DAY + 9 * HOUR, "PAYMENT")
    await desk.reject(cases["A"], T0 + 2 * DAY + 9 * HOUR)
    await desk.resolve(cases["A"], T0 + 2 * DAY + 15 * HOUR)
    await desk.act(
        "agent", CaseAction.CLOSE, cases["D"], T0 + 2 * DAY + 10 * HOUR, commands.Close(resolution_notes="Fixed.")
    )
    await desk.act("requester", CaseAction.SUBMIT, cases["F"], T0 + 2 * DAY + 12 * HOUR)
    await desk.accept(cases["A"], T0 + 3 * DAY + 9 * HOUR)
    return cases


def moves(buckets: list[dict[str, Any]]) -> list[tuple[int, ...]]:
    return [(b["opened"], b["reopened"], b["resolved"], b["cancelled"], b["openAtEnd"]) for b in buckets]


async def test_backlog_counts_each_days_moves_and_the_cases_open_at_its_end(
    desk: Desk, backlog_desk: dict[str, str]
) -> None:
    # when
    buckets = await desk.analytics("backlog", "(interval: DAY)", **window(T0, T0 + 4 * DAY, groupCodes=["ROADS"]))
    # then D, open before the range, is carried in; A's reopening and second resolution both count
    assert [(b["start"], b["end"]) for b in buckets] == [
        ((T0 + i * DAY).isoformat(), (T0 + (i + 1) * DAY).isoformat()) for i in range(4)
    ]
    assert moves(buckets) == [(2, 0, 0, 0, 3), (1, 0, 1, 1, 2), (1, 1, 2, 0, 2), (0, 0, 0, 0, 2)]
    everything = await desk.analytics("backlog", "(interval: DAY)", **window(T0, T0 + 4 * DAY))
    assert moves(everything) == [(2, 0, 0, 0, 3), (2, 0, 1, 1, 3), (1, 1, 2, 0, 3), (0, 0, 0, 0, 3)]
    assert keyed(await desk.analytics("openCases", "(by: [])")) == [(3,)]


async def test_backlog_by_week_ends_at_to_and_defaults_to_thirty_intervals_before_now(
    desk: Desk, backlog_desk: dict[str, str]
) -> None:
    # when
    weekly = await desk.analytics("backlog", "(interval: WEEK)", **window(T0 - 7 * DAY, T0 + 3 * DAY))
    by_default = await desk.analytics("backlog", "(interval: DAY)", **window(end=T0 + 2 * DAY))
    # then the last bucket is cut at `to`
    assert [(b["start"], b["end"]) for b in weekly] == [
        ((T0 - 7 * DAY).isoformat(), T0.isoformat()),
        (T0.isoformat(), (T0 + 3 * DAY).isoformat()),
    ]
    assert moves(weekly) == [(1, 0, 0, 0, 1), (5, 1, 3, 1, 3)]
    assert len(by_default) == 30
    assert by_default[0]["start"] == (T0 - 28 * DAY).isoformat()
    assert moves(by_default)[-3:] == [(1, 0, 0, 0, 1), (2, 0, 0, 0, 3), (2, 0, 1, 1, 3)]


async def test_backlog_refuses_more_than_366_buckets_and_an_empty_range(desk: Desk) -> None:
    # when / then
    assert await desk.refusal("backlog", "(interval: DAY)", **window(T0 - 400 * DAY, T0)) == "VALIDATION_FAILED"
    assert len(await desk.analytics("backlog", "(interval: WEEK)", **window(T0 - 400 * DAY, T0))) == 58
    assert await desk.refusal("backlog", "(interval: DAY)", **window(T0, T0)) == "VALIDATION_FAILED"


# --- durations -------------------------------------------------------------------------------------


@pytest.fixture
async def timed_desk(desk: Desk) -> None:
    """Ten questions filed an hour apart; the i-th (from 1) answered after i minutes and
    resolved i × 10 minutes after filing."""
    for i in range(1, 11):
        filed = T0 + (i - 1) * HOUR
        case_id = await desk.file(filed)
        await desk.take(case_id, filed + i * MINUTE)
        await desk.resolve(case_id, filed + i * 10 * MINUTE)


def stats(found: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        found[k] for k in ("count", "meanSeconds", "p50Seconds", "p90Seconds", "p95Seconds", "minSeconds", "maxSeconds")
    )


async def test_first_response_and_resolution_times_have_mean_and_nearest_rank_percentiles(
    desk: Desk, timed_desk: None
) -> None:
    # when
    response = await desk.analytics("firstResponseTime")
    resolution = await desk.analytics("resolutionTime")
    # then
    assert stats(response) == (10, 330.0, 300.0, 540.0, 600.0, 60.0, 600.0)
    assert stats(resolution) == (10, 3300.0, 3000.0, 5400.0, 6000.0, 600.0, 6000.0)


async def test_times_count_what_happened_in_the_range_and_the_groups_in_scope(desk: Desk, timed_desk: None) -> None:
    # when the range starts at 05:00, cases 6 to 10 responded in it (the 5th at 04:05)
    response = await desk.analytics("firstResponseTime", **window(T0 + 5 * HOUR))
    resolution = await desk.analytics("resolutionTime", **window(T0 + HOUR, T0 + 4 * HOUR))
    benefits = await desk.analytics("resolutionTime", groupCodes=["BENEFITS"])
    # then
    assert stats(response) == (5, 480.0, 480.0, 600.0, 600.0, 360.0, 600.0)
    assert stats(resolution) == (3, 1800.0, 1800.0, 2400.0, 2400.0, 1200.0, 2400.0)
    assert stats(benefits) == (0, None, None, None, None, None, None)


# --- reopen rate and resolutions after reopening ---------------------------------------------------


@pytest.fixture
async def reopen_desk(desk: Desk) -> None:
    """R1 resolved at 1h and accepted; R2 resolved at 1h, reopened at 2h, resolved at 5h; R3 closed
    by its agent at 3h; R4 cancelled at 30m; R5 resolved at 2h and reopened at 3h (open now)."""
    r1, r2, r3, r4, r5 = [await desk.file(T0) for _ in range(5)]
    for case_id in (r1, r2, r3, r5):
        await desk.take(case_id, T0 + MINUTE)
    await desk.resolve(r1, T0 + HOUR)
    await desk.accept(r1, T0 + 2 * HOUR)
    await desk.resolve(r2, T0 + HOUR)
    await desk.reject(r2, T0 + 2 * HOUR)
    await desk.resolve(r2, T0 + 5 * HOUR)
    await desk.act("agent", CaseAction.CLOSE, r3, T0 + 3 * HOUR, commands.Close(resolution_notes="Answered by phone."))
    await desk.act("requester", CaseAction.CANCEL, r4, T0 + 30 * MINUTE)
    await desk.resolve(r5, T0 + 2 * HOUR)
    await desk.reject(r5, T0 + 3 * HOUR)


async def test_reopen_rate_is_the_share_of_resolved_cases_that_were_reopened(desk: Desk, reopen_desk: None) -> None:
    # when
    overall = await desk.analytics("reopenRate")
    early = await desk.analytics("reopenRate", **window(end=T0 + 90 * MINUTE))
    # then R1, R2 and R5 were resolved (R3 closed without a solution), R2 and R5 reopened
    assert overall == {"resolvedCases": 3, "reopenedCases": 2, "rate": 0.6667}
    assert early == {"resolvedCases": 2, "reopenedCases": 1, "rate": 0.5}


async def test_resolution_time_counts_the_final_resolution_and_closes_but_not_cancellations(
    desk: Desk, reopen_desk: None
) -> None:
    # when
    overall = await desk.analytics("resolutionTime")
    before_r2_resolved_again = await desk.analytics("resolutionTime", **window(end=T0 + 4 * HOUR))
    # then R1 (1h), R3 (3h, closed) and R2 (5h, its final resolution); R5 is open again
    assert stats(overall) == (3, 10800.0, 10800.0, 18000.0, 18000.0, 3600.0, 18000.0)
    assert stats(before_r2_resolved_again) == (2, 7200.0, 3600.0, 10800.0, 10800.0, 3600.0, 10800.0)


# --- SLA compliance --------------------------------------------------------------------------------


async def test_sla_compliance_counts_met_breached_and_running_timers_per_case_type_and_priority(
    desk: Desk, world: World
) -> None:
    # given questions of priority 3 (response 1h, resolution 4h) and priority 1 (30m, 2h)
    for priority, response, resolution in ((3, 60, 240), (1, 30, 120)):
        await set_sla_policy(
            actor=world.actor("admin"),
            case_type_code="QUESTION",
            priority=priority,
            response_minutes=response,
            resolution_minutes=resolution,
            now=T0 - DAY,
        )
    met = await desk.file(T0)
    late = await desk.file(T0)
    await desk.file(T0)  # never taken
    urgent = await desk.file(T0, impact=1, urgency=1)
    await desk.file(T0 + DAY)  # outside the range below
    await desk.take(met, T0 + 30 * MINUTE)
    await desk.take(urgent, T0 + 10 * MINUTE)
    await desk.take(late, T0 + 90 * MINUTE)
    await desk.resolve(met, T0 + 2 * HOUR)
    await evaluate_due(now=T0 + 2 * HOUR, publisher=desk.publisher)
    await desk.resolve(urgent, T0 + 3 * HOUR)
    # when
    rows = await desk.analytics("slaCompliance", **window(end=T0 + HOUR))
    # then
    assert [
        (r["caseType"]["code"], r["priority"], r["kind"], r["met"], r["breached"], r["inProgress"], r["complianceRate"])
        for r in rows
    ] == [
        ("QUESTION", 1, "RESPONSE", 1, 0, 0, 1.0),
        ("QUESTION", 1, "RESOLUTION", 0, 1, 0, 0.0),
        ("QUESTION", 3, "RESPONSE", 1, 2, 0, 0.3333),
        ("QUESTION", 3, "RESOLUTION", 1, 0, 2, 1.0),
    ]
    assert await desk.analytics("slaCompliance", groupCodes=["BENEFITS"]) == []


# --- satisfaction and agent workload ---------------------------------------------------------------


@pytest.fixture
async def rated_desk(desk: Desk, world: World) -> None:
    """Dana: two open cases, and one resolved after an hour and rated 4 on day 1. Eli: one open
    case and a closed one rated 2 on day 0. Grace (Benefits): one open case, and one rated 5.
    Maria, Roads' manager, has nothing."""
    await insert_case(world, state=(CaseStage.INTAKE, CaseStatus.OPEN))
    await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.OPEN))
    resolved = await desk.file(T0 + DAY)
    await desk.take(resolved, T0 + DAY + MINUTE)
    await desk.resolve(resolved, T0 + DAY + HOUR)
    await desk.accept(resolved, T0 + DAY + 2 * HOUR)
    await desk.rate(resolved, 4, T0 + DAY + 3 * HOUR)
    await insert_case(world, case_type="QUESTION", state=(CaseStage.INTAKE, CaseStatus.OPEN), assigned_to="other_agent")
    for agent, rating in (("other_agent", 2), ("outsider_agent", 5)):
        case_type = "PAYMENT" if agent == "outsider_agent" else "QUESTION"
        closed = await insert_case(
            world, case_type=case_type, state=lc.CLOSED, solution_accepted=True, assigned_to=agent
        )
        await desk.rate(closed.id, rating, T0)
    await insert_case(
        world, case_type="PAYMENT", state=(CaseStage.INTAKE, CaseStatus.OPEN), assigned_to="outsider_agent"
    )


async def test_satisfaction_has_count_average_and_distribution_in_range_and_groups(
    desk: Desk, rated_desk: None
) -> None:
    # when
    everything = await desk.analytics("satisfaction")
    roads = await desk.analytics("satisfaction", who="manager")
    day_one = await desk.analytics("satisfaction", **window(T0 + DAY, groupCodes=["ROADS"]))
    # then
    assert (everything["count"], everything["averageRating"]) == (3, 3.67)
    assert [d["count"] for d in everything["distribution"]] == [0, 1, 0, 1, 1]
    assert [d["rating"] for d in everything["distribution"]] == [1, 2, 3, 4, 5]
    assert (roads["count"], roads["averageRating"]) == (2, 3.0)
    assert (day_one["count"], day_one["averageRating"]) == (1, 4.0)


async def test_agent_workload_lists_every_group_member_with_load_resolutions_and_csat(
    desk: Desk, world: World, rated_desk: None
) -> None:
    # when
    roads = await desk.analytics("agentWorkload", who="manager")
    later = await desk.analytics("agentWorkload", **window(T0 + DAY, groupCodes=["ROADS"]))
    # then most open cases first; idle members too
    assert [
        (
            w["agent"]["id"],
            w["openCases"],
            w["resolvedCases"],
            w["meanResolutionSeconds"],
            w["surveyCount"],
            w["averageRating"],
        )
        for w in roads
    ] == [
        (world.sub("agent"), 2, 1, 3600.0, 1, 4.0),
        (world.sub("other_agent"), 1, 0, None, 1, 2.0),
        (world.sub("manager"), 0, 0, None, 0, None),
    ]
    # the day-0 survey and the cases inserted before the range drop out
    assert [(w["agent"]["id"], w["openCases"], w["resolvedCases"], w["surveyCount"]) for w in later] == [
        (world.sub("agent"), 0, 1, 1),
        (world.sub("other_agent"), 0, 0, 0),
        (world.sub("manager"), 0, 0, 0),
    ]


async def test_an_admin_sees_the_workload_of_every_group(desk: Desk, world: World, rated_desk: None) -> None:
    # when
    rows = await desk.analytics("agentWorkload")
    # then
    assert {w["agent"]["id"]: w["openCases"] for w in rows} == {
        world.sub(who): n
        for who, n in (("agent", 2), ("other_agent", 1), ("manager", 0), ("outsider_agent", 1), ("outsider_manager", 0))
    }


# --- who may see what ------------------------------------------------------------------------------


async def test_constituents_partners_and_field_agents_are_refused(desk: Desk) -> None:
    # given
    partner = desk.client.token("pat", Role.PARTNER, agency="Water Board")
    # when
    refused = [await desk.refusal("satisfaction", who=who) for who in ("requester", "field_agent")]
    body = await desk.client.execute(only("satisfaction"), token=partner)
    # then
    assert refused == ["PERMISSION_DENIED", "PERMISSION_DENIED"]
    assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert body["data"] == {"analytics": None}


async def test_agents_and_managers_may_name_only_their_own_groups(desk: Desk) -> None:
    # when / then an unknown group is refused like another's, so codes cannot be probed
    assert await desk.refusal("satisfaction", who="agent", groupCodes=["BENEFITS"]) == "PERMISSION_DENIED"
    assert await desk.refusal("satisfaction", who="manager", groupCodes=["ROADS", "NOPE"]) == "PERMISSION_DENIED"
    assert (await desk.analytics("satisfaction", who="agent", groupCodes=["ROADS"]))["count"] == 0


async def test_unknown_codes_and_an_inverted_range_fail_validation(desk: Desk) -> None:
    # when / then
    assert await desk.refusal("satisfaction", groupCodes=["NOPE"]) == "VALIDATION_FAILED"
    assert await desk.refusal("satisfaction", who="agent", caseTypeCodes=["NOPE"]) == "VALIDATION_FAILED"
    assert await desk.refusal("satisfaction", **window(T0, T0 - DAY)) == "VALIDATION_FAILED"


# --- cost ------------------------------------------------------------------------------------------


async def add_history(world: World, count: int) -> None:
    """``count`` cases in every kind of state, with resolutions, surveys and SLA timers."""
    states = [(CaseStage.INTAKE, CaseStatus.NEW), (CaseStage.INTAKE, CaseStatus.OPEN), lc.RESOLVED, lc.CLOSED]
    for i in range(count):
        state = states[i % len(states)]
        agent = ("agent", "other_agent", "outsider_agent")[i % 3]
        case_type = "PAYMENT" if agent == "outsider_agent" else "QUESTION"
        case = await insert_case(
            world, case_type=case_type, state=state, assigned_to=agent, solution_accepted=state == lc.CLOSED
        )
        now = world.clock()
        if state in (lc.RESOLVED, lc.CLOSED):
            await CaseEvent.create(
                sequence=await next_value("event_sequence"),
                case_id=case.id,
                actor_id=world.sub(agent),
                type="CASE_TRANSITIONED",
                action="PROPOSE_SOLUTION",
                from_stage="INTAKE",
                from_status="OPEN",
                to_stage="DECISION",
                to_status="RESOLVED",
                version=2,
                summary={},
                occurred_at=now,
            )
        if state == lc.CLOSED:
            await Survey.create(
                case_id=case.id, requester_id=world.sub("requester"), rating=1 + i % 5, submitted_at=now
            )
        await CaseTimer.create(
            case_id=case.id,
            kind="RESPONSE",
            target_minutes=60,
            elapsed_us=i * 10**8,
            phase="STOPPED" if i % 2 else "RUNNING",
            started_at=now,
        )


async def test_every_aggregate_costs_the_same_statements_for_10_and_for_100_cases(desk: Desk, world: World) -> None:
    # given
    variables: dict[str, Any] = {
        "filter": window(T0 - 30 * DAY, T0 + 30 * DAY),
        "by": ["GROUP", "CASE_TYPE", "STATUS"],
        "interval": "DAY",
    }
    await add_history(world, 10)
    await desk.body(ANALYTICS_QUERY, **variables)  # the first request provisions the viewer
    # when
    with counted_statements() as few:
        small = await desk.body(ANALYTICS_QUERY, **variables)
    await add_history(world, 90)
    with counted_statements() as many:
        large = await desk.body(ANALYTICS_QUERY, **variables)
    # then
    assert not small.get("errors") and not large.get("errors")
    assert small["data"]["analytics"]["satisfaction"]["count"] < large["data"]["analytics"]["satisfaction"]["count"]
    assert len(few) == len(many), (few, many)
    # one per aggregate and per batched loader (group, case type, user), and the viewer's groups
    assert 8 + 3 <= len(many) <= 8 + 3 + 2, many
