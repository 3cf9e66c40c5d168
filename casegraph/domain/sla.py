"""SLA arithmetic and alert planning (lifecycle.md *SLAs*; pure: standard library only).

Timers. Each submitted case with an SLA policy has a RESPONSE timer (submitted → first OPEN) and
a RESOLUTION timer (submitted → RESOLVED). A timer runs, is paused (AWAITING_INFO, or the case
is deleted) or is stopped (RESOLVED, CLOSED, CANCELLED; the response timer also at the first
OPEN). Working time is counted by a calendar (24 × 7 unless the case type has business hours).
A timer keeps what it counted; a stopped resolution timer that starts running again (a rejected
solution reopens the case) continues from where it stood. At 50 % and 75 % of its target a
warning is due, at 100 % the breach; each threshold fires at most once per timer.

Alerts. Stage dwell, unanswered requester comments and auto-close are wall-clock deadlines,
planned from each recorded change by ``plan_alerts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Final

from casegraph.domain.business_hours import Calendar
from casegraph.domain.enums import CaseEventType, CaseStage, CaseStatus, Workflow
from casegraph.domain.lifecycle import State


class TimerKind(str, Enum):
    RESPONSE = "RESPONSE"
    RESOLUTION = "RESOLUTION"


class Phase(str, Enum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"


WARNING_PERCENTS: Final = (50, 75)
BREACH_PERCENT: Final = 100
THRESHOLDS: Final = (*WARNING_PERCENTS, BREACH_PERCENT)
STOPPING_STATUSES: Final = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CANCELLED})
TERMINAL_STATUSES: Final = frozenset({CaseStatus.CLOSED, CaseStatus.CANCELLED})
PRIORITIES: Final = (1, 2, 3, 4, 5)
ZERO: Final = timedelta(0)


def phase_of(kind: TimerKind, *, status: CaseStatus, first_opened: bool, deleted: bool) -> Phase:
    """Whether a timer of ``kind`` counts for a case in ``status``."""
    if status in STOPPING_STATUSES or status is CaseStatus.DRAFT:
        return Phase.STOPPED
    if kind is TimerKind.RESPONSE and first_opened:
        return Phase.STOPPED
    if status is CaseStatus.AWAITING_INFO or deleted:
        return Phase.PAUSED
    return Phase.RUNNING


def event_type_for(percent: int) -> CaseEventType:
    return CaseEventType.SLA_BREACHED if percent >= BREACH_PERCENT else CaseEventType.SLA_WARNING


def recipients_for(percent: int, *, assignee_id: str | None, manager_ids: frozenset[str]) -> frozenset[str]:
    """Who is told: the assignee at 50 %, the assignee and the group's managers at 75 % and at the
    breach (the escalation). With nobody assigned, the managers stand in for the assignee, so a
    warning about an unassigned case reaches someone who can assign it.
    """
    assignee = frozenset({assignee_id}) if assignee_id else frozenset()
    if percent < WARNING_PERCENTS[1]:
        return assignee or manager_ids
    return assignee | manager_ids


@dataclass(frozen=True)
class Due:
    kind: TimerKind
    percent: int
    due_at: datetime


@dataclass(frozen=True)
class TimerView:
    """What a client is shown: ``remaining`` goes negative once the target is overrun."""

    elapsed: timedelta
    remaining: timedelta
    due_at: datetime | None
    breached: bool


@dataclass(frozen=True)
class Timer:
    """One SLA clock. ``elapsed`` is what was counted before ``running_since`` (set iff running)."""

    kind: TimerKind
    target: timedelta
    elapsed: timedelta = ZERO
    running_since: datetime | None = None
    phase: Phase = Phase.STOPPED
    fired: frozenset[int] = field(default=frozenset())

    @classmethod
    def start(cls, kind: TimerKind, target: timedelta, *, phase: Phase, now: datetime) -> Timer:
        return cls(kind, target, ZERO, now if phase is Phase.RUNNING else None, phase)

    def elapsed_at(self, now: datetime, calendar: Calendar) -> timedelta:
        if self.running_since is None:
            return self.elapsed
        return self.elapsed + calendar.working_time(self.running_since, now)

    def moved_to(self, phase: Phase, now: datetime, calendar: Calendar) -> Timer:
        """The timer after the case changed at ``now`` so that it should be in ``phase``."""
        if phase is self.phase:
            return self
        if phase is Phase.RUNNING:
            return replace(self, phase=phase, running_since=now)
        return replace(self, phase=phase, elapsed=self.elapsed_at(now, calendar), running_since=None)

    def retargeted(self, target: timedelta) -> Timer:
        return replace(self, target=target)

    def threshold(self, percent: int) -> timedelta:
        # Integer microseconds: exact, so the stored deadline and the due check always agree.
        return timedelta(microseconds=_micros(self.target) * percent // 100)

    def due(self, now: datetime, calendar: Calendar) -> list[Due]:
        """Thresholds reached by ``now`` and not fired yet, in order, with when each was reached."""
        elapsed = self.elapsed_at(now, calendar)
        found = []
        for percent in THRESHOLDS:
            if percent in self.fired or elapsed < self.threshold(percent):
                continue
            found.append(Due(self.kind, percent, self._reached_at(percent, calendar) or now))
        return found

    def next_due_at(self, calendar: Calendar) -> datetime | None:
        """When the next unfired threshold will be reached if nothing changes; None if never."""
        if self.running_since is None:
            return None
        for percent in THRESHOLDS:
            if percent not in self.fired:
                return self._reached_at(percent, calendar)
        return None

    def view(self, now: datetime, calendar: Calendar) -> TimerView:
        elapsed = self.elapsed_at(now, calendar)
        due_at = None
        if self.running_since is not None:
            due_at = calendar.add_working_time(self.running_since, self.target - self.elapsed)
        return TimerView(
            elapsed=elapsed,
            remaining=self.target - elapsed,
            due_at=due_at,
            breached=BREACH_PERCENT in self.fired or elapsed >= self.target,
        )

    def _reached_at(self, percent: int, calendar: Calendar) -> datetime | None:
        if self.running_since is None:
            return None
        # A threshold passed in an earlier running period counts as reached when this one began.
        return calendar.add_working_time(self.running_since, max(self.threshold(percent) - self.elapsed, ZERO))


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# --- Alerts: stage dwell, unanswered comments, auto-close -------------------------------------


class AlertKind(str, Enum):
    STAGE_DWELL = "STAGE_DWELL"
    UNANSWERED_COMMENT = "UNANSWERED_COMMENT"
    AUTO_CLOSE_REMINDER = "AUTO_CLOSE_REMINDER"
    AUTO_CLOSE = "AUTO_CLOSE"


DAY: Final = timedelta(days=1)
DEFAULT_DWELL: Final[Mapping[CaseStage, timedelta]] = {
    CaseStage.INTAKE: 2 * DAY,
    CaseStage.REVIEW: 8 * DAY,
    CaseStage.PROCESS: 8 * DAY,
    CaseStage.DECISION: 2 * DAY,
}
DEFAULT_UNANSWERED_COMMENT: Final = 2 * DAY
DEFAULT_AUTO_CLOSE_REMINDER: Final = 5 * DAY
DEFAULT_AUTO_CLOSE_AFTER: Final = 10 * DAY
DWELL_STAGES: Final = tuple(DEFAULT_DWELL)


@dataclass(frozen=True)
class Overrides:
    """A case type's own settings, in minutes: None means the default, 0 switches an alert off."""

    dwell_minutes: Mapping[CaseStage, int | None] = field(default_factory=dict)
    unanswered_comment_minutes: int | None = None
    auto_close_enabled: bool = False
    auto_close_reminder_minutes: int | None = None
    auto_close_minutes: int | None = None


@dataclass(frozen=True)
class AlertRules:
    """The effective alert settings of one case type (None: that alert is off)."""

    dwell: Mapping[CaseStage, timedelta | None]
    unanswered_comment: timedelta | None
    auto_close: bool
    auto_close_reminder: timedelta | None
    auto_close_after: timedelta


def effective_rules(workflow: Workflow, overrides: Overrides) -> AlertRules:
    """Defaults apply to the public-service workflow (lifecycle.md); a customer-service type has
    dwell and unanswered-comment alerts only where its settings ask for them."""
    defaults = workflow is Workflow.PUBLIC_SERVICE

    def pick(minutes: int | None, default: timedelta | None) -> timedelta | None:
        if minutes is None:
            return default
        return timedelta(minutes=minutes) if minutes > 0 else None

    return AlertRules(
        dwell={
            stage: pick(overrides.dwell_minutes.get(stage), DEFAULT_DWELL[stage] if defaults else None)
            for stage in DWELL_STAGES
        },
        unanswered_comment=pick(overrides.unanswered_comment_minutes, DEFAULT_UNANSWERED_COMMENT if defaults else None),
        auto_close=overrides.auto_close_enabled,
        auto_close_reminder=pick(overrides.auto_close_reminder_minutes, DEFAULT_AUTO_CLOSE_REMINDER),
        auto_close_after=pick(overrides.auto_close_minutes, DEFAULT_AUTO_CLOSE_AFTER) or DEFAULT_AUTO_CLOSE_AFTER,
    )


@dataclass(frozen=True)
class Change:
    """What the alert planner needs to know about one recorded change of a case."""

    before: State
    after: State
    sequence: int
    at: datetime
    submitted: bool = False  # this change submitted the case (it entered INTAKE/NEW)
    requester_commented: bool = False
    answered: bool = False  # someone other than the requester replied publicly (or proposed a solution)
    deleted: bool = False  # the case is (now) deleted
    auto_close_excluded_before: bool = False
    auto_close_excluded_after: bool = False
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    key: str
    due_at: datetime


@dataclass(frozen=True)
class AlertPlan:
    """Drop every pending alert of ``cancel``; then add ``schedule`` (an UNANSWERED_COMMENT alert
    only when none is pending: the oldest unanswered comment sets the clock)."""

    cancel: frozenset[AlertKind] = frozenset()
    schedule: tuple[Alert, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.cancel and not self.schedule


AUTO_CLOSE_KINDS: Final = frozenset({AlertKind.AUTO_CLOSE_REMINDER, AlertKind.AUTO_CLOSE})


def plan_alerts(change: Change, rules: AlertRules) -> AlertPlan:
    before_stage, before_status = change.before
    stage, status = change.after
    if status is CaseStatus.DRAFT:
        return AlertPlan()
    if status in TERMINAL_STATUSES or change.deleted:
        # Nothing is due on a finished or deleted case (a restored case starts without alerts).
        return AlertPlan(cancel=frozenset(AlertKind)) if before_status not in TERMINAL_STATUSES else AlertPlan()
    cancel: set[AlertKind] = set()
    schedule: list[Alert] = []
    if change.submitted or stage is not before_stage:
        cancel.add(AlertKind.STAGE_DWELL)
        dwell = rules.dwell.get(stage)
        if dwell is not None:
            schedule.append(Alert(AlertKind.STAGE_DWELL, f"{stage.value}:{change.sequence}", change.at + dwell))
    entered_resolved = status is CaseStatus.RESOLVED and before_status is not CaseStatus.RESOLVED
    included_again = change.auto_close_excluded_before and not change.auto_close_excluded_after
    if before_status is CaseStatus.RESOLVED and status is not CaseStatus.RESOLVED:
        cancel |= AUTO_CLOSE_KINDS
    if change.auto_close_excluded_after and not change.auto_close_excluded_before:
        cancel |= AUTO_CLOSE_KINDS
    if (
        status is CaseStatus.RESOLVED
        and rules.auto_close
        and not change.auto_close_excluded_after
        and (entered_resolved or included_again)
    ):
        # Counted from when the case was resolved: a case excluded for a while and included
        # again is closed as soon as it has been left RESOLVED long enough.
        since = change.at if entered_resolved else (change.resolved_at or change.at)
        cancel |= AUTO_CLOSE_KINDS
        reminder = rules.auto_close_reminder
        # A reminder whose time has passed already (included again late) would only precede the close.
        if reminder is not None and reminder < rules.auto_close_after and since + reminder > change.at:
            schedule.append(Alert(AlertKind.AUTO_CLOSE_REMINDER, str(change.sequence), since + reminder))
        schedule.append(Alert(AlertKind.AUTO_CLOSE, str(change.sequence), since + rules.auto_close_after))
    if change.answered:
        cancel.add(AlertKind.UNANSWERED_COMMENT)
    elif change.requester_commented and rules.unanswered_comment is not None:
        schedule.append(Alert(AlertKind.UNANSWERED_COMMENT, str(change.sequence), change.at + rules.unanswered_comment))
    return AlertPlan(cancel=frozenset(cancel), schedule=tuple(schedule))
