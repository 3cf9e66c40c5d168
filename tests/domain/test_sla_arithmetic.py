"""SLA arithmetic, alert planning and business-hours calendars (pure, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from casegraph.domain.business_hours import (
    ALWAYS,
    CalendarError,
    Weekday,
    WeeklyCalendar,
    build_calendar,
    calendar_from_json,
)
from casegraph.domain.enums import CaseEventType, CaseStage, CaseStatus, Workflow
from casegraph.domain.sla import (
    AlertKind,
    AlertRules,
    Change,
    Overrides,
    Phase,
    Timer,
    TimerKind,
    effective_rules,
    event_type_for,
    phase_of,
    plan_alerts,
    recipients_for,
)

S, T = CaseStage, CaseStatus
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def running(target: timedelta = 100 * MIN) -> Timer:
    return Timer.start(TimerKind.RESOLUTION, target, phase=Phase.RUNNING, now=T0)


# --- phases ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "first_opened", "deleted", "response", "resolution"),
    [
        (T.NEW, False, False, Phase.RUNNING, Phase.RUNNING),
        (T.OPEN, True, False, Phase.STOPPED, Phase.RUNNING),
        (T.AWAITING_INFO, True, False, Phase.STOPPED, Phase.PAUSED),
        (T.WORK_IN_PROGRESS, True, False, Phase.STOPPED, Phase.RUNNING),
        (T.RESOLVED, True, False, Phase.STOPPED, Phase.STOPPED),
        (T.CLOSED, True, False, Phase.STOPPED, Phase.STOPPED),
        (T.CANCELLED, False, False, Phase.STOPPED, Phase.STOPPED),
        (T.NEW, False, True, Phase.PAUSED, Phase.PAUSED),
        (T.DRAFT, False, False, Phase.STOPPED, Phase.STOPPED),
    ],
)
def test_each_status_runs_pauses_or_stops_each_timer(
    status: CaseStatus, first_opened: bool, deleted: bool, response: Phase, resolution: Phase
) -> None:
    assert phase_of(TimerKind.RESPONSE, status=status, first_opened=first_opened, deleted=deleted) is response
    assert phase_of(TimerKind.RESOLUTION, status=status, first_opened=first_opened, deleted=deleted) is resolution


# --- timers ---------------------------------------------------------------------------------------


def test_a_running_timer_counts_wall_time_and_a_paused_one_keeps_what_it_counted() -> None:
    # given
    timer = running()
    # when
    paused = timer.moved_to(Phase.PAUSED, T0 + 30 * MIN, ALWAYS)
    # then
    assert timer.elapsed_at(T0 + 30 * MIN, ALWAYS) == 30 * MIN
    assert paused.elapsed == 30 * MIN and paused.running_since is None
    assert paused.elapsed_at(T0 + 10 * DAY, ALWAYS) == 30 * MIN


def test_a_stopped_timer_restarts_from_where_it_stood() -> None:
    # given: stopped (resolved) after 40 minutes, reopened a week later
    stopped = running().moved_to(Phase.STOPPED, T0 + 40 * MIN, ALWAYS)
    # when
    reopened = stopped.moved_to(Phase.RUNNING, T0 + 7 * DAY, ALWAYS)
    # then
    assert reopened.elapsed_at(T0 + 7 * DAY + 20 * MIN, ALWAYS) == 60 * MIN


def test_thresholds_fall_due_at_50_75_and_100_percent_in_order() -> None:
    timer = running()
    assert timer.due(T0 + 49 * MIN, ALWAYS) == []
    assert [d.percent for d in timer.due(T0 + 50 * MIN, ALWAYS)] == [50]
    assert [(d.percent, d.due_at) for d in timer.due(T0 + 3 * HOUR, ALWAYS)] == [
        (50, T0 + 50 * MIN),
        (75, T0 + 75 * MIN),
        (100, T0 + 100 * MIN),
    ]


def test_fired_thresholds_are_not_due_again_and_the_next_deadline_moves_on() -> None:
    # given
    timer = running()
    # when
    fired = Timer(timer.kind, timer.target, timer.elapsed, timer.running_since, timer.phase, frozenset({50}))
    # then
    assert [d.percent for d in fired.due(T0 + 80 * MIN, ALWAYS)] == [75]
    assert timer.next_due_at(ALWAYS) == T0 + 50 * MIN
    assert fired.next_due_at(ALWAYS) == T0 + 75 * MIN
    all_fired = Timer(
        timer.kind, timer.target, timer.elapsed, timer.running_since, timer.phase, frozenset({50, 75, 100})
    )
    assert all_fired.next_due_at(ALWAYS) is None


def test_a_paused_timer_has_no_next_deadline() -> None:
    assert running().moved_to(Phase.PAUSED, T0 + MIN, ALWAYS).next_due_at(ALWAYS) is None


def test_a_threshold_passed_before_a_pause_is_due_at_once_when_running_again() -> None:
    # given: 60 of 100 minutes counted, 50 % never fired (say the policy was tightened)
    timer = Timer(TimerKind.RESOLUTION, 100 * MIN, 60 * MIN, None, Phase.PAUSED)
    # when
    resumed = timer.moved_to(Phase.RUNNING, T0, ALWAYS)
    # then
    assert [(d.percent, d.due_at) for d in resumed.due(T0, ALWAYS)] == [(50, T0)]


def test_the_view_shows_remaining_time_going_negative_after_the_breach() -> None:
    view = running().view(T0 + 130 * MIN, ALWAYS)
    assert view.elapsed == 130 * MIN
    assert view.remaining == -30 * MIN
    assert view.breached
    assert view.due_at == T0 + 100 * MIN


def test_thresholds_are_exact_for_odd_targets() -> None:
    timer = running(target=timedelta(minutes=7))
    assert timer.threshold(50) == timedelta(minutes=3, seconds=30)
    assert timer.threshold(75) == timedelta(minutes=5, seconds=15)


def test_the_breach_is_its_own_event_type() -> None:
    assert event_type_for(50) is CaseEventType.SLA_WARNING
    assert event_type_for(75) is CaseEventType.SLA_WARNING
    assert event_type_for(100) is CaseEventType.SLA_BREACHED


def test_who_is_told_at_each_threshold() -> None:
    managers = frozenset({"maria"})
    assert recipients_for(50, assignee_id="dana", manager_ids=managers) == {"dana"}
    assert recipients_for(75, assignee_id="dana", manager_ids=managers) == {"dana", "maria"}
    assert recipients_for(100, assignee_id="dana", manager_ids=managers) == {"dana", "maria"}
    assert recipients_for(50, assignee_id=None, manager_ids=managers) == {"maria"}


# --- business hours -------------------------------------------------------------------------------


def office(holidays: tuple[date, ...] = ()) -> WeeklyCalendar:
    weekdays = [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY]
    return build_calendar(timezone="Europe/Paris", windows=[(d, "09:00", "17:00") for d in weekdays], holidays=holidays)


def test_business_hours_count_only_opening_hours_in_the_local_time_zone() -> None:
    calendar = office()
    friday_4pm_paris = datetime(2026, 11, 6, 15, 0, tzinfo=UTC)  # 16:00 in Paris (UTC+1)
    monday_10am_paris = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
    assert calendar.working_time(friday_4pm_paris, monday_10am_paris) == 2 * HOUR
    assert calendar.add_working_time(friday_4pm_paris, 2 * HOUR) == monday_10am_paris


def test_business_hours_skip_holidays() -> None:
    calendar = office(holidays=(date(2026, 11, 11),))
    tuesday_5pm = datetime(2026, 11, 10, 16, 0, tzinfo=UTC)
    assert calendar.add_working_time(tuesday_5pm, HOUR) == datetime(2026, 11, 12, 9, 0, tzinfo=UTC)


def test_adding_and_counting_working_time_are_inverse() -> None:
    calendar = office()
    start = datetime(2026, 10, 23, 13, 17, tzinfo=UTC)  # across the end of summer time (25 Oct)
    for minutes in (1, 59, 61, 480, 481, 2400, 10_000):
        end = calendar.add_working_time(start, minutes * MIN)
        assert end is not None
        assert calendar.working_time(start, end) == minutes * MIN


def test_a_calendar_survives_its_stored_form() -> None:
    calendar = office(holidays=(date(2026, 12, 25),))
    assert calendar_from_json(calendar.to_json()) == calendar
    assert calendar_from_json(None) is ALWAYS


@pytest.mark.parametrize(
    ("timezone", "windows", "field"),
    [
        ("Mars/Olympus", [(Weekday.MONDAY, "09:00", "17:00")], "timezone"),
        ("UTC", [], "windows"),
        ("UTC", [(Weekday.MONDAY, "9am", "17:00")], "windows.0.start"),
        ("UTC", [(Weekday.MONDAY, "17:00", "09:00")], "windows.0.end"),
        ("UTC", [(Weekday.MONDAY, "09:00", "24:01")], "windows.0.end"),
        ("UTC", [(Weekday.MONDAY, "09:00", "13:00"), (Weekday.MONDAY, "12:00", "17:00")], "windows"),
    ],
)
def test_unusable_calendars_are_refused_naming_the_part(
    timezone: str, windows: list[tuple[Weekday, str, str]], field: str
) -> None:
    with pytest.raises(CalendarError) as refused:
        build_calendar(timezone=timezone, windows=windows)
    assert refused.value.field == field


# --- alert planning -------------------------------------------------------------------------------

PS_RULES = effective_rules(Workflow.PUBLIC_SERVICE, Overrides())


def change(before: tuple[CaseStage, CaseStatus], after: tuple[CaseStage, CaseStatus], **kwargs: object) -> Change:
    return Change(before=before, after=after, sequence=7, at=T0, **kwargs)  # type: ignore[arg-type]


def test_public_service_defaults_are_those_of_the_spec() -> None:
    assert PS_RULES.dwell == {S.INTAKE: 2 * DAY, S.REVIEW: 8 * DAY, S.PROCESS: 8 * DAY, S.DECISION: 2 * DAY}
    assert PS_RULES.unanswered_comment == 2 * DAY
    assert not PS_RULES.auto_close
    assert (PS_RULES.auto_close_reminder, PS_RULES.auto_close_after) == (5 * DAY, 10 * DAY)


def test_customer_service_has_no_dwell_alerts_unless_asked_and_zero_switches_one_off() -> None:
    cs = effective_rules(Workflow.CUSTOMER_SERVICE, Overrides(dwell_minutes={S.INTAKE: 90}))
    ps = effective_rules(Workflow.PUBLIC_SERVICE, Overrides(dwell_minutes={S.REVIEW: 0}))
    assert cs.dwell[S.INTAKE] == 90 * MIN and cs.dwell[S.DECISION] is None and cs.unanswered_comment is None
    assert ps.dwell[S.REVIEW] is None and ps.dwell[S.INTAKE] == 2 * DAY


def test_entering_a_stage_replaces_the_dwell_alert() -> None:
    plan = plan_alerts(change((S.INTAKE, T.OPEN), (S.REVIEW, T.OPEN)), PS_RULES)
    assert plan.cancel == {AlertKind.STAGE_DWELL}
    assert [(a.kind, a.key, a.due_at) for a in plan.schedule] == [(AlertKind.STAGE_DWELL, "REVIEW:7", T0 + 8 * DAY)]


def test_a_change_within_a_stage_leaves_the_dwell_alert_alone() -> None:
    assert plan_alerts(change((S.INTAKE, T.OPEN), (S.INTAKE, T.AWAITING_INFO)), PS_RULES).empty


def test_submission_plans_the_intake_dwell_alert() -> None:
    plan = plan_alerts(change((S.INTAKE, T.NEW), (S.INTAKE, T.NEW), submitted=True), PS_RULES)
    assert [a.due_at for a in plan.schedule] == [T0 + 2 * DAY]


def test_closing_or_deleting_drops_every_alert() -> None:
    assert plan_alerts(change((S.DECISION, T.RESOLVED), (S.DECISION, T.CLOSED)), PS_RULES).cancel == set(AlertKind)
    assert plan_alerts(change((S.INTAKE, T.OPEN), (S.INTAKE, T.OPEN), deleted=True), PS_RULES).cancel == set(AlertKind)


def test_a_requester_comment_starts_the_unanswered_clock_and_a_reply_stops_it() -> None:
    asked = plan_alerts(change((S.REVIEW, T.OPEN), (S.REVIEW, T.OPEN), requester_commented=True), PS_RULES)
    answered = plan_alerts(change((S.REVIEW, T.OPEN), (S.REVIEW, T.OPEN), answered=True), PS_RULES)
    assert [(a.kind, a.due_at) for a in asked.schedule] == [(AlertKind.UNANSWERED_COMMENT, T0 + 2 * DAY)]
    assert answered.cancel == {AlertKind.UNANSWERED_COMMENT} and not answered.schedule


def auto_closing() -> AlertRules:
    return effective_rules(Workflow.PUBLIC_SERVICE, Overrides(auto_close_enabled=True))


def test_resolving_plans_the_reminder_and_the_auto_close_when_enabled() -> None:
    resolved = change((S.DECISION, T.READY_FOR_DECISION), (S.DECISION, T.RESOLVED))
    assert [(a.kind, a.due_at) for a in plan_alerts(resolved, auto_closing()).schedule] == [
        (AlertKind.AUTO_CLOSE_REMINDER, T0 + 5 * DAY),
        (AlertKind.AUTO_CLOSE, T0 + 10 * DAY),
    ]
    assert all(a.kind is not AlertKind.AUTO_CLOSE for a in plan_alerts(resolved, PS_RULES).schedule)


def test_reopening_or_excluding_drops_the_auto_close() -> None:
    reopened = change((S.DECISION, T.RESOLVED), (S.REVIEW, T.OPEN))
    excluded = change((S.DECISION, T.RESOLVED), (S.DECISION, T.RESOLVED), auto_close_excluded_after=True)
    assert {AlertKind.AUTO_CLOSE, AlertKind.AUTO_CLOSE_REMINDER} <= plan_alerts(reopened, auto_closing()).cancel
    plan = plan_alerts(excluded, auto_closing())
    assert {AlertKind.AUTO_CLOSE, AlertKind.AUTO_CLOSE_REMINDER} <= plan.cancel and not plan.schedule


def test_including_a_case_again_counts_from_when_it_was_resolved() -> None:
    included = change(
        (S.DECISION, T.RESOLVED), (S.DECISION, T.RESOLVED), auto_close_excluded_before=True, resolved_at=T0 - 20 * DAY
    )
    assert [(a.kind, a.due_at) for a in plan_alerts(included, auto_closing()).schedule] == [
        (AlertKind.AUTO_CLOSE, T0 - 10 * DAY)
    ]


def test_including_a_case_again_early_keeps_the_reminder() -> None:
    included = change(
        (S.DECISION, T.RESOLVED), (S.DECISION, T.RESOLVED), auto_close_excluded_before=True, resolved_at=T0 - DAY
    )
    assert [(a.kind, a.due_at) for a in plan_alerts(included, auto_closing()).schedule] == [
        (AlertKind.AUTO_CLOSE_REMINDER, T0 + 4 * DAY),
        (AlertKind.AUTO_CLOSE, T0 + 9 * DAY),
    ]
