"""SLAs over GraphQL with a controllable clock: policies, timers, warnings, breach and escalation,
pause and stop, stage dwell and unanswered-comment alerts, auto-close and its exclusion.

The evaluator is driven by calling ``evaluate_due`` at the fake clock's time, as the server's
background task does every ``CASEGRAPH_SLA_INTERVAL`` seconds; nothing sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from casegraph.services.sla_evaluation import Evaluation, evaluate_due
from casegraph.settings import Settings
from models import CaseEvent, MailDelivery
from tests.helpers import FakeClock, GraphQLClient, RecordingPublisher, World

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)

SET_POLICY = """
mutation Policy($input: SetSlaPolicyInput!) {
  setSlaPolicy(input: $input) { policy { caseTypeCode priority responseMinutes resolutionMinutes } errors { code field } }
}
"""
SET_SETTINGS = """
mutation Settings($input: SetSlaSettingsInput!) {
  setSlaSettings(input: $input) {
    settings {
      caseTypeCode stageDwell { stage minutes } unansweredCommentMinutes autoCloseEnabled
      autoCloseReminderMinutes autoCloseMinutes businessHours { timezone windows { weekday start end } holidays }
    }
    errors { code field }
  }
}
"""
CASE_QUERY = """
query Case($id: ID!) {
  case(id: $id) {
    status version escalated autoCloseExcluded availableActions
    slaTimers {
      kind phase targetMinutes elapsedSeconds remainingSeconds paused stopped breached dueAt
      warnedAt50 warnedAt75 breachedAt
    }
    history { edges { node { sequence type action version actor { id } fromStatus toStatus details } } }
  }
}
"""
NOTIFICATIONS = "{ notifications { kind eventSequence case { id } } }"


class Desk:
    """The test's hands: GraphQL calls as the world's people, and the evaluator at the fake time."""

    def __init__(
        self, client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
    ) -> None:
        self.client, self.world, self.settings, self.clock, self.publisher = client, world, settings, clock, publisher

    def token(self, who: str) -> str:
        return self.world.token(self.settings, who)

    async def mutate(
        self, who: str, name: str, input: dict[str, Any], select: str = "case { id status version }"
    ) -> Any:
        type_name = name[0].upper() + name[1:] + "Input"
        query = f"mutation M($input: {type_name}!) {{ {name}(input: $input) {{ {select} errors {{ code field }} }} }}"
        return (await self.client.data(query, {"input": input}, token=self.token(who)))[name]

    async def act(self, who: str, name: str, case_id: str, **fields: Any) -> dict[str, Any]:
        payload = await self.mutate(who, name, {"caseId": case_id, **fields})
        assert payload["errors"] == [], (name, payload["errors"])
        case: dict[str, Any] = payload["case"]
        return case

    async def policy(
        self, code: str = "POTHOLE", priority: int = 3, response: int | None = 60, resolution: int | None = 240
    ) -> None:
        payload = await self.mutate(
            "admin",
            "setSlaPolicy",
            {
                "caseTypeCode": code,
                "priority": priority,
                "responseMinutes": response,
                "resolutionMinutes": resolution,
            },
            select="policy { priority }",
        )
        assert payload["errors"] == []

    async def configure(self, code: str, **settings: Any) -> dict[str, Any]:
        data = await self.client.data(
            SET_SETTINGS, {"input": {"caseTypeCode": code, **settings}}, token=self.token("admin")
        )
        payload: dict[str, Any] = data["setSlaSettings"]
        assert payload["errors"] == [], payload["errors"]
        return payload

    async def file(self, code: str = "POTHOLE") -> str:
        """A case of priority 3 (impact 2 × urgency 2) filed by Alice."""
        payload = await self.mutate(
            "requester",
            "createCase",
            {
                "caseTypeCode": code,
                "title": "Broken streetlight",
                "impact": 2,
                "urgency": 2,
            },
        )
        assert payload["errors"] == []
        case_id: str = payload["case"]["id"]
        return case_id

    async def taken(self, code: str = "POTHOLE") -> str:
        """Filed by Alice and taken by Dana (INTAKE/OPEN)."""
        case_id = await self.file(code)
        await self.act("agent", "assignToMe", case_id)
        return case_id

    async def case(self, case_id: str, who: str = "manager") -> dict[str, Any]:
        case: dict[str, Any] = (await self.client.data(CASE_QUERY, {"id": case_id}, token=self.token(who)))["case"]
        return case

    async def timer(self, case_id: str, kind: str = "RESOLUTION") -> dict[str, Any]:
        timers: dict[str, dict[str, Any]] = {t["kind"]: t for t in (await self.case(case_id))["slaTimers"]}
        return timers[kind]

    async def sla_events(self, case_id: str) -> list[dict[str, Any]]:
        nodes = [e["node"] for e in (await self.case(case_id))["history"]["edges"]]
        return [n for n in nodes if n["action"] in ("SLA_TIMER", "AUTO_CLOSE")]

    async def inbox(self, who: str) -> list[str]:
        return [n["kind"] for n in (await self.client.data(NOTIFICATIONS, token=self.token(who)))["notifications"]]

    async def later(self, delta: timedelta) -> Evaluation:
        self.clock.advance(delta)
        return await evaluate_due(now=self.clock(), publisher=self.publisher)


def desk(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> Desk:
    return Desk(client, world, settings, clock, publisher)


def thresholds(events: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(e["type"], e["details"]["timer"], e["details"]["threshold"]) for e in events if e["action"] == "SLA_TIMER"]


# --- policies -------------------------------------------------------------------------------------


async def test_an_admin_sets_targets_per_case_type_and_priority_and_staff_read_them(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    # when
    await d.policy(priority=1, response=15, resolution=120)
    await d.policy(priority=1, response=30, resolution=None)
    listed = await client.data(
        "{ slaPolicies { caseTypeCode priority responseMinutes resolutionMinutes } }", token=d.token("agent")
    )
    # then: the second call replaced the first
    assert listed["slaPolicies"] == [
        {"caseTypeCode": "POTHOLE", "priority": 1, "responseMinutes": 30, "resolutionMinutes": None}
    ]


async def test_setting_a_policy_is_for_admins_with_valid_values(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    base = {"caseTypeCode": "POTHOLE", "priority": 3, "responseMinutes": 60, "resolutionMinutes": 240}
    # when
    as_manager = await d.mutate("manager", "setSlaPolicy", base, select="policy { priority }")
    bad_priority = await d.mutate("admin", "setSlaPolicy", {**base, "priority": 6}, select="policy { priority }")
    bad_target = await d.mutate("admin", "setSlaPolicy", {**base, "resolutionMinutes": 0}, select="policy { priority }")
    unknown_type = await d.mutate(
        "admin", "setSlaPolicy", {**base, "caseTypeCode": "NOPE"}, select="policy { priority }"
    )
    constituent_read = await client.execute("{ slaPolicies { priority } }", token=d.token("requester"))
    # then
    assert as_manager["errors"] == [{"code": "PERMISSION_DENIED", "field": None}]
    assert bad_priority["errors"] == [{"code": "VALIDATION_FAILED", "field": "priority"}]
    assert bad_target["errors"] == [{"code": "VALIDATION_FAILED", "field": "resolutionMinutes"}]
    assert unknown_type["errors"] == [{"code": "VALIDATION_FAILED", "field": "caseTypeCode"}]
    assert constituent_read["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


async def test_a_case_without_a_policy_for_its_priority_has_no_timers(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: a policy for priority 1 only; the case is priority 3
    d = desk(client, world, settings, clock, publisher)
    await d.policy(priority=1)
    case_id = await d.taken()
    # when
    evaluation = await d.later(30 * DAY)
    # then
    assert (await d.case(case_id))["slaTimers"] == []
    assert evaluation.events == []


# --- timers: warnings, breach, escalation ---------------------------------------------------------


async def test_a_submitted_case_shows_both_timers_and_the_response_timer_stops_at_first_open(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    await d.policy()
    case_id = await d.file()
    clock.advance(10 * MINUTE)
    # when
    before = {t["kind"]: t for t in (await d.case(case_id))["slaTimers"]}
    await d.act("agent", "assignToMe", case_id)
    clock.advance(10 * MINUTE)
    after = {t["kind"]: t for t in (await d.case(case_id))["slaTimers"]}
    # then
    assert [before["RESPONSE"]["targetMinutes"], before["RESOLUTION"]["targetMinutes"]] == [60, 240]
    assert before["RESPONSE"]["phase"] == "RUNNING" and 600 <= before["RESPONSE"]["elapsedSeconds"] < 660
    assert after["RESPONSE"]["stopped"] and 600 <= after["RESPONSE"]["elapsedSeconds"] < 660
    assert after["RESOLUTION"]["phase"] == "RUNNING" and after["RESOLUTION"]["elapsedSeconds"] >= 1200
    assert after["RESOLUTION"]["remainingSeconds"] == 240 * 60 - after["RESOLUTION"]["elapsedSeconds"]
    assert after["RESPONSE"]["dueAt"] is None and after["RESOLUTION"]["dueAt"] is not None


async def test_warnings_at_50_and_75_percent_tell_the_assignee_then_also_the_managers(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: resolution target 240 minutes, Dana has the case
    d = desk(client, world, settings, clock, publisher)
    await d.policy()
    case_id = await d.taken()
    version = (await d.case(case_id))["version"]
    # when
    early = await d.later(119 * MINUTE)
    at_half = await d.later(2 * MINUTE)
    dana_after_half, maria_after_half = await d.inbox("agent"), await d.inbox("manager")
    at_three_quarters = await d.later(60 * MINUTE)
    # then
    assert early.events == []
    events = await d.sla_events(case_id)
    assert thresholds(events) == [("SLA_WARNING", "RESOLUTION", 50), ("SLA_WARNING", "RESOLUTION", 75)]
    assert [e["version"] for e in events] == [version + 1, version + 2]
    assert all(e["actor"] is None and e["fromStatus"] == e["toStatus"] == "OPEN" for e in events)
    assert [e.sequence for e in at_half.events + at_three_quarters.events] == [e["sequence"] for e in events]
    assert dana_after_half == ["SLA_WARNING"] and maria_after_half == []
    assert await d.inbox("agent") == ["SLA_WARNING", "SLA_WARNING"]
    assert await d.inbox("manager") == ["SLA_WARNING"]
    assert await d.inbox("other_agent") == []


async def test_a_breach_records_sla_breached_escalates_the_case_and_tells_the_managers(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    await d.policy()
    case_id = await d.taken()
    await d.later(121 * MINUTE)
    await d.later(60 * MINUTE)
    assert not (await d.case(case_id))["escalated"]
    # when
    breach = await d.later(60 * MINUTE)
    # then
    case = await d.case(case_id)
    timer = {t["kind"]: t for t in case["slaTimers"]}["RESOLUTION"]
    assert [e.type.value for e in breach.events] == ["SLA_BREACHED"]
    assert thresholds(await d.sla_events(case_id))[-1] == ("SLA_BREACHED", "RESOLUTION", 100)
    assert case["escalated"] is True
    assert timer["breached"] and timer["breachedAt"] is not None and timer["remainingSeconds"] <= 0
    assert (await d.inbox("manager"))[0] == "SLA_BREACHED"
    assert (await d.inbox("agent"))[0] == "SLA_BREACHED"
    # and subscribers were told: the events reached the publisher after their commit
    assert breach.events[0] in publisher.events


async def test_an_unassigned_case_warns_the_managers_and_taking_it_stops_the_response_clock(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: response target 60 minutes; nobody has taken the case
    d = desk(client, world, settings, clock, publisher)
    await d.policy(resolution=None)
    case_id = await d.file()
    # when
    await d.later(31 * MINUTE)
    await d.act("agent", "assignToMe", case_id)
    later = await d.later(10 * DAY)
    # then
    assert thresholds(await d.sla_events(case_id)) == [("SLA_WARNING", "RESPONSE", 50)]
    assert await d.inbox("manager") == ["SLA_WARNING"]
    assert later.events == []
    assert (await d.timer(case_id, "RESPONSE"))["stopped"]


async def test_the_clock_pauses_while_awaiting_info(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: an hour into the resolution target, Dana asks Alice a question
    d = desk(client, world, settings, clock, publisher)
    await d.policy()
    case_id = await d.taken()
    clock.advance(60 * MINUTE)
    await d.act("agent", "requestInfo", case_id, question="Which lamp post?")
    # when: ten days pass, then Dana resumes
    waiting = await d.later(10 * DAY)
    paused = await d.timer(case_id)
    await d.act("agent", "resumeCase", case_id)
    before_half = await d.later(55 * MINUTE)
    at_half = await d.later(6 * MINUTE)
    # then: only the hour before and the hour after counted
    assert waiting.events == [] and before_half.events == []
    assert paused["paused"] and paused["phase"] == "PAUSED" and paused["dueAt"] is None
    assert 3600 <= paused["elapsedSeconds"] < 3660
    assert thresholds(await d.sla_events(case_id)) == [("SLA_WARNING", "RESOLUTION", 50)]
    assert len(at_half.events) == 1


async def test_the_requesters_answer_restarts_a_paused_clock(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    await d.policy()
    case_id = await d.taken()
    await d.act("agent", "requestInfo", case_id, question="Which lamp post?")
    clock.advance(3 * DAY)
    # when
    await d.act("requester", "updateCase", case_id, comment="The one by the school.")
    clock.advance(30 * MINUTE)
    # then
    timer = await d.timer(case_id)
    assert timer["phase"] == "RUNNING" and 1800 <= timer["elapsedSeconds"] < 1900


async def test_the_clock_stops_at_resolved_and_a_rejected_solution_restarts_it_from_where_it_stood(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: resolved after 100 of 240 minutes
    d = desk(client, world, settings, clock, publisher)
    await d.policy("QUESTION")
    case_id = await d.taken("QUESTION")
    clock.advance(100 * MINUTE)
    await d.act("agent", "proposeSolution", case_id, resolutionCode="SOLVED", resolutionNotes="Replaced the bulb.")
    # when: a week later Alice rejects it
    resolved = await d.later(7 * DAY)
    stopped = await d.timer(case_id)
    await d.act("requester", "rejectSolution", case_id, reason="Still dark.")
    short = await d.later(15 * MINUTE)
    half = await d.later(10 * MINUTE)
    # then: it continued from 100 minutes, so 50 % (120) came 20 minutes after reopening
    assert resolved.events == [] and short.events == []
    assert stopped["stopped"] and 6000 <= stopped["elapsedSeconds"] < 6100
    assert [e.type.value for e in half.events] == ["SLA_WARNING"]
    timer = await d.timer(case_id)
    assert timer["phase"] == "RUNNING" and timer["warnedAt50"] is not None


async def test_closing_or_cancelling_stops_every_timer(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    await d.policy()
    cancelled = await d.file()
    closed = await d.taken()
    # when
    await d.act("requester", "cancelCase", cancelled)
    await d.act("agent", "closeCase", closed, resolutionNotes="Duplicate of a phone report.")
    evaluation = await d.later(30 * DAY)
    # then
    assert evaluation.events == []
    for case_id in (cancelled, closed):
        assert all(t["stopped"] and not t["breached"] for t in (await d.case(case_id))["slaTimers"])


async def test_a_higher_priority_brings_its_tighter_target(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: priority 3 has 240 minutes, priority 1 has 60
    d = desk(client, world, settings, clock, publisher)
    await d.policy()
    await d.policy(priority=1, response=15, resolution=60)
    case_id = await d.taken()
    clock.advance(20 * MINUTE)
    # when: Dana raises impact and urgency to high (priority 1)
    await d.act("agent", "updateCase", case_id, impact=1, urgency=1)
    evaluation = await d.later(11 * MINUTE)
    # then: 31 of 60 minutes is past half
    assert (await d.timer(case_id))["targetMinutes"] == 60
    assert [e.summary["threshold"] for e in evaluation.events] == [50]


# --- stage dwell and unanswered comments ----------------------------------------------------------


async def test_the_assignee_is_alerted_when_a_case_dwells_in_a_stage_without_an_event(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: a public-service case taken by Dana, in INTAKE
    d = desk(client, world, settings, clock, publisher)
    case_id = await d.taken()
    version = (await d.case(case_id))["version"]
    # when
    before = await d.later(2 * DAY - MINUTE)
    after = await d.later(2 * MINUTE)
    again = await d.later(DAY)
    # then: one alert, a notification only
    assert (before.alerts, after.alerts, again.alerts) == (0, 1, 0)
    assert after.events == []
    assert await d.inbox("agent") == ["STAGE_DWELL"]
    assert (await d.case(case_id))["version"] == version


async def test_each_stage_has_its_own_dwell_limit_counted_from_entering_it(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: the case moves on to REVIEW after a day in INTAKE
    d = desk(client, world, settings, clock, publisher)
    case_id = await d.taken()
    clock.advance(DAY)
    await d.act("agent", "beginReview", case_id)
    # when
    within = await d.later(8 * DAY - MINUTE)
    beyond = await d.later(2 * MINUTE)
    # then: no INTAKE alert (left in time), one REVIEW alert after 8 days
    assert within.alerts == 0 and beyond.alerts == 1
    assert await d.inbox("agent") == ["STAGE_DWELL"]


async def test_an_admin_overrides_a_stage_dwell_limit_per_case_type(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: 90 minutes in INTAKE for potholes; REVIEW alerts off
    d = desk(client, world, settings, clock, publisher)
    payload = await d.configure(
        "POTHOLE", stageDwell=[{"stage": "INTAKE", "minutes": 90}, {"stage": "REVIEW", "minutes": 0}]
    )
    case_id = await d.taken()
    # when
    intake = await d.later(91 * MINUTE)
    await d.act("agent", "beginReview", case_id)
    review = await d.later(30 * DAY)
    # then
    dwell = {s["stage"]: s["minutes"] for s in payload["settings"]["stageDwell"]}
    assert dwell == {"INTAKE": 90, "REVIEW": None, "PROCESS": 8 * 24 * 60, "DECISION": 2 * 24 * 60}
    assert intake.alerts == 1 and review.alerts == 0


async def test_a_customer_service_case_has_no_dwell_alerts_by_default(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    await d.taken("QUESTION")
    # when
    evaluation = await d.later(30 * DAY)
    # then
    assert evaluation.alerts == 0 and await d.inbox("agent") == []


async def test_an_unanswered_requester_comment_alerts_the_assignee_after_two_days(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: in REVIEW (8 days of dwell), Alice asks for news
    d = desk(client, world, settings, clock, publisher)
    case_id = await d.taken()
    await d.act("agent", "beginReview", case_id)
    await d.act("requester", "updateCase", case_id, comment="Any news?")
    clock.advance(DAY)
    await d.act("requester", "updateCase", case_id, comment="Hello?")
    # when
    early = await d.later(DAY - MINUTE)
    due = await d.later(2 * MINUTE)
    # then: counted from the first unanswered comment, alerted once
    assert early.alerts == 0 and due.alerts == 1
    assert await d.inbox("agent") == ["UNANSWERED_COMMENT"]


async def test_a_public_reply_answers_the_requesters_comment(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    case_id = await d.taken()
    await d.act("agent", "beginReview", case_id)
    await d.act("requester", "updateCase", case_id, comment="Any news?")
    clock.advance(DAY)
    # when: Eli (an agent of the group) answers; a work note would not have
    await d.act("other_agent", "updateCase", case_id, workNote="Crew booked.")
    await d.act("other_agent", "updateCase", case_id, comment="A crew comes on Friday.")
    evaluation = await d.later(5 * DAY)
    # then
    assert evaluation.alerts == 0 and await d.inbox("agent") == []


# --- auto-close -----------------------------------------------------------------------------------


async def resolved_question(d: Desk) -> str:
    case_id = await d.taken("QUESTION")
    await d.act("agent", "proposeSolution", case_id, resolutionCode="SOLVED", resolutionNotes="See the FAQ.")
    return case_id


async def test_auto_close_is_off_by_default(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    case_id = await resolved_question(d)
    # when
    evaluation = await d.later(30 * DAY)
    # then
    assert evaluation.events == [] and (await d.case(case_id))["status"] == "RESOLVED"


async def test_a_resolved_case_is_reminded_after_5_days_and_closed_after_10(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    payload = await d.configure("QUESTION", autoCloseEnabled=True)
    case_id = await resolved_question(d)
    # resolved by the proposal, the case's latest event
    resolved_at = (await CaseEvent.filter(case_id=case_id).order_by("-sequence").first().values("occurred_at"))[
        "occurred_at"
    ]
    version = (await d.case(case_id))["version"]
    # when
    reminded = await d.later(5 * DAY + MINUTE)
    reminder_mail = await MailDelivery.get(case_id=case_id, template="reminder")
    alice_inbox = await d.inbox("requester")
    waiting = await d.case(case_id, "requester")
    closed = await d.later(5 * DAY)
    # then: a reminder (no event), then one AUTO_CLOSE event by no one
    assert payload["settings"]["autoCloseEnabled"] is True
    assert payload["settings"]["autoCloseReminderMinutes"] == 5 * 24 * 60
    assert reminded.alerts == 1 and reminded.events == [] and alice_inbox == ["AUTO_CLOSE_REMINDER"]
    assert waiting["status"] == "RESOLVED" and waiting["version"] == version
    # and: the reminder mail names the day it will close (when the auto-close is due)
    assert datetime.fromisoformat(reminder_mail.facts["closes_at"]) == resolved_at + 10 * DAY
    case = await d.case(case_id, "requester")
    assert case["status"] == "CLOSED" and case["version"] == version + 1
    event = (await d.sla_events(case_id))[-1]
    assert (event["action"], event["type"], event["actor"], event["fromStatus"], event["toStatus"]) == (
        "AUTO_CLOSE",
        "CASE_TRANSITIONED",
        None,
        "RESOLVED",
        "CLOSED",
    )
    assert [e.sequence for e in closed.events] == [event["sequence"]]
    # as if accepted, but no survey prompt
    assert "SUBMIT_SURVEY" not in case["availableActions"]


async def test_a_case_excluded_from_auto_close_stays_resolved_until_included_again(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    await d.configure("QUESTION", autoCloseEnabled=True)
    case_id = await resolved_question(d)
    # when: Dana excludes it; eleven days pass
    excluded = await d.mutate(
        "agent",
        "setAutoCloseExcluded",
        {"caseId": case_id, "excluded": True},
        select="case { autoCloseExcluded version } event { type action details }",
    )
    left = await d.later(11 * DAY)
    still = await d.case(case_id)
    alice_inbox = await d.inbox("requester")
    included = await d.mutate(
        "agent", "setAutoCloseExcluded", {"caseId": case_id, "excluded": False}, select="case { autoCloseExcluded }"
    )
    caught_up = await d.later(MINUTE)
    # then: nothing while excluded; closed as soon as included (resolved long enough ago)
    assert excluded["errors"] == [] and excluded["case"]["autoCloseExcluded"] is True
    assert excluded["event"]["type"] == "CASE_UPDATED" and excluded["event"]["details"]["autoCloseExcluded"] is True
    assert left.events == [] and left.alerts == 0 and alice_inbox == []
    assert still["status"] == "RESOLVED" and still["autoCloseExcluded"] is True
    assert included["errors"] == []
    assert [e.action.value for e in caught_up.events] == ["AUTO_CLOSE"] and caught_up.alerts == 0
    assert (await d.case(case_id))["status"] == "CLOSED"


async def test_only_the_assignee_or_a_manager_may_exclude_an_open_case(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    case_id = await resolved_question(d)
    closed_id = await d.taken("QUESTION")
    await d.act("agent", "closeCase", closed_id, resolutionNotes="Answered by phone.")
    # when
    by_requester = await d.mutate("requester", "setAutoCloseExcluded", {"caseId": case_id, "excluded": True})
    by_outsider = await d.mutate("outsider_agent", "setAutoCloseExcluded", {"caseId": case_id, "excluded": True})
    by_manager = await d.mutate("manager", "setAutoCloseExcluded", {"caseId": case_id, "excluded": True})
    repeated = await d.mutate("manager", "setAutoCloseExcluded", {"caseId": case_id, "excluded": True})
    stale = await d.mutate(
        "agent", "setAutoCloseExcluded", {"caseId": case_id, "excluded": False, "expectedVersion": 1}
    )
    on_closed = await d.mutate("agent", "setAutoCloseExcluded", {"caseId": closed_id, "excluded": True})
    # then
    assert by_requester["errors"] == [{"code": "PERMISSION_DENIED", "field": None}]
    assert by_outsider["errors"] == [{"code": "NOT_FOUND", "field": None}]
    assert by_manager["errors"] == []
    assert repeated["errors"] == [{"code": "VALIDATION_FAILED", "field": "excluded"}]
    assert stale["errors"] == [{"code": "VERSION_CONFLICT", "field": "expectedVersion"}]
    assert on_closed["errors"] == [{"code": "TRANSITION_NOT_ALLOWED", "field": None}]


# --- business hours -------------------------------------------------------------------------------

WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]


async def test_with_business_hours_the_clock_only_counts_opening_hours(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: Mon–Fri 09:00–17:00 in Paris; a case filed on Friday at 16:00 Paris time (15:00 UTC)
    d = desk(client, world, settings, clock, publisher)
    await d.policy("QUESTION", response=None, resolution=240)
    payload = await d.configure(
        "QUESTION",
        businessHours={
            "timezone": "Europe/Paris",
            "windows": [{"weekday": w, "start": "09:00", "end": "17:00"} for w in WEEKDAYS],
            "holidays": ["2026-12-25"],
        },
    )
    clock.now = datetime(2026, 11, 6, 15, 0, tzinfo=UTC)
    case_id = await d.taken("QUESTION")
    # when: the weekend passes; Monday 10:00 Paris is two working hours later
    weekend = await d.later(datetime(2026, 11, 9, 8, 0, tzinfo=UTC) - clock.now)
    timer = await d.timer(case_id)
    monday = await d.later(datetime(2026, 11, 9, 9, 1, tzinfo=UTC) - clock.now)
    # then
    assert payload["settings"]["businessHours"]["timezone"] == "Europe/Paris"
    assert weekend.events == []
    assert 3600 <= timer["elapsedSeconds"] < 3700
    assert timer["dueAt"].startswith("2026-11-09T11:00")
    assert [e.summary["threshold"] for e in monday.events] == [50]


async def test_unusable_business_hours_are_refused_naming_the_field(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    hours = {"timezone": "Atlantis/Capital", "windows": [{"weekday": "MONDAY", "start": "09:00", "end": "17:00"}]}
    # when
    bad_zone = await d.mutate(
        "admin",
        "setSlaSettings",
        {"caseTypeCode": "QUESTION", "businessHours": hours},
        select="settings { caseTypeCode }",
    )
    reversed_window = await d.mutate(
        "admin",
        "setSlaSettings",
        {
            "caseTypeCode": "QUESTION",
            "businessHours": {"timezone": "UTC", "windows": [{"weekday": "MONDAY", "start": "17:00", "end": "09:00"}]},
        },
        select="settings { caseTypeCode }",
    )
    reminder_late = await d.mutate(
        "admin",
        "setSlaSettings",
        {
            "caseTypeCode": "QUESTION",
            "autoCloseReminderMinutes": 600,
            "autoCloseMinutes": 600,
        },
        select="settings { caseTypeCode }",
    )
    by_agent = await d.mutate(
        "agent",
        "setSlaSettings",
        {"caseTypeCode": "QUESTION", "autoCloseEnabled": True},
        select="settings { caseTypeCode }",
    )
    # names the time zone package cannot open as a file (a directory; too long for a file name)
    unopenable_zones = [
        await d.mutate(
            "admin",
            "setSlaSettings",
            {
                "caseTypeCode": "QUESTION",
                "businessHours": {
                    "timezone": zone,
                    "windows": [{"weekday": "MONDAY", "start": "09:00", "end": "17:00"}],
                },
            },
            select="settings { caseTypeCode }",
        )
        for zone in ("Europe", "Z" * 300)
    ]
    # a superscript digit: str.isdigit() holds, int() fails
    superscript = await d.mutate(
        "admin",
        "setSlaSettings",
        {
            "caseTypeCode": "QUESTION",
            "businessHours": {
                "timezone": "UTC",
                "windows": [{"weekday": "MONDAY", "start": "09:00", "end": "1\u00b2:00"}],
            },
        },
        select="settings { caseTypeCode }",
    )
    # then
    assert bad_zone["errors"] == [{"code": "VALIDATION_FAILED", "field": "businessHours.timezone"}]
    assert [z["errors"] for z in unopenable_zones] == [
        [{"code": "VALIDATION_FAILED", "field": "businessHours.timezone"}]
    ] * 2
    assert superscript["errors"] == [{"code": "VALIDATION_FAILED", "field": "businessHours.windows.0.end"}]
    assert reversed_window["errors"] == [{"code": "VALIDATION_FAILED", "field": "businessHours.windows.0.end"}]
    assert reminder_late["errors"] == [{"code": "VALIDATION_FAILED", "field": "autoCloseReminderMinutes"}]
    assert by_agent["errors"] == [{"code": "PERMISSION_DENIED", "field": None}]


SETTINGS_QUERY = """
query Settings($code: String!) {
  slaSettings(caseTypeCode: $code) {
    caseTypeCode stageDwell { stage minutes } unansweredCommentMinutes autoCloseEnabled
    autoCloseReminderMinutes autoCloseMinutes businessHours { timezone }
  }
}
"""


async def test_staff_read_each_case_types_effective_settings_with_the_defaults_applied(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    # when
    pothole = (await client.data(SETTINGS_QUERY, {"code": "POTHOLE"}, token=d.token("agent")))["slaSettings"]
    question = (await client.data(SETTINGS_QUERY, {"code": "QUESTION"}, token=d.token("manager")))["slaSettings"]
    refused = await client.execute(SETTINGS_QUERY, {"code": "POTHOLE"}, token=d.token("requester"))
    # then: the spec's public-service defaults; customer service has no dwell alerts by default
    assert pothole == {
        "caseTypeCode": "POTHOLE",
        "stageDwell": [
            {"stage": "INTAKE", "minutes": 2880},
            {"stage": "REVIEW", "minutes": 11520},
            {"stage": "PROCESS", "minutes": 11520},
            {"stage": "DECISION", "minutes": 2880},
        ],
        "unansweredCommentMinutes": 2880,
        "autoCloseEnabled": False,
        "autoCloseReminderMinutes": 7200,
        "autoCloseMinutes": 14400,
        "businessHours": None,
    }
    assert all(s["minutes"] is None for s in question["stageDwell"]) and question["unansweredCommentMinutes"] is None
    assert refused["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


async def test_a_repeated_exclusion_with_the_same_idempotency_key_records_one_event(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    d = desk(client, world, settings, clock, publisher)
    case_id = await resolved_question(d)
    request = {"caseId": case_id, "excluded": True, "idempotencyKey": "exclude-1"}
    # when
    first = await d.mutate("agent", "setAutoCloseExcluded", request, select="case { version } event { sequence }")
    again = await d.mutate("agent", "setAutoCloseExcluded", request, select="case { version } event { sequence }")
    # then
    assert first["errors"] == [] and again == first
    assert (await d.case(case_id))["version"] == first["case"]["version"]
