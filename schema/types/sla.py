"""SLA clocks of a case, and a case type's SLA targets, alert settings and business hours."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import strawberry

from casegraph.domain.business_hours import WeeklyCalendar
from casegraph.domain.sla import DWELL_STAGES
from casegraph.services.sla_config import SettingsView
from models import SlaPolicy as SlaPolicyRow
from schema.enums import CaseStage, Phase, TimerKind, Weekday


@strawberry.type(description="One SLA clock of a case. Times count working time when the case type has business hours.")
class SlaTimer:
    kind: TimerKind
    phase: Phase = strawberry.field(description="RUNNING, PAUSED (AWAITING_INFO) or STOPPED.")
    target_minutes: int
    elapsed_seconds: int = strawberry.field(description="Working time counted so far.")
    remaining_seconds: int = strawberry.field(description="Until the target; negative once overrun.")
    paused: bool
    stopped: bool
    breached: bool
    due_at: datetime | None = strawberry.field(
        description="When the target is reached if the timer keeps running; null unless running."
    )
    started_at: datetime
    stopped_at: datetime | None
    warned_at_50: datetime | None = strawberry.field(name="warnedAt50")
    warned_at_75: datetime | None = strawberry.field(name="warnedAt75")
    breached_at: datetime | None


@strawberry.type(description="The targets of one case type for one priority.")
class SlaPolicy:
    case_type_code: str
    priority: int
    response_minutes: int | None = strawberry.field(description="Submitted → first OPEN; null: no response target.")
    resolution_minutes: int | None = strawberry.field(description="Submitted → RESOLVED; null: no resolution target.")
    updated_at: datetime

    @classmethod
    def from_row(cls, row: SlaPolicyRow, code: str) -> SlaPolicy:
        return cls(
            case_type_code=code,
            priority=row.priority,
            response_minutes=row.response_minutes,
            resolution_minutes=row.resolution_minutes,
            updated_at=row.updated_at,
        )


@strawberry.type(description="How long a case may stay in a stage before its assignee is alerted.")
class StageDwell:
    stage: CaseStage
    minutes: int | None = strawberry.field(description="Null: no alert for this stage.")


@strawberry.type(description="A weekly opening window, in the calendar's time zone.")
class BusinessHoursWindow:
    weekday: Weekday
    start: str = strawberry.field(description="HH:MM")
    end: str = strawberry.field(description="HH:MM (24:00 for midnight)")


@strawberry.type(description="Working hours SLA timers count in.")
class BusinessHours:
    timezone: str
    windows: list[BusinessHoursWindow]
    holidays: list[date]

    @classmethod
    def from_calendar(cls, calendar: WeeklyCalendar) -> BusinessHours:
        data = calendar.to_json()
        return cls(
            timezone=calendar.timezone,
            windows=[
                BusinessHoursWindow(weekday=Weekday(w["weekday"]), start=w["start"], end=w["end"])
                for w in data["windows"]
            ],
            holidays=sorted(calendar.holidays),
        )


@strawberry.type(description="A case type's effective alert settings (defaults applied) and business hours.")
class SlaSettings:
    case_type_code: str
    stage_dwell: list[StageDwell]
    unanswered_comment_minutes: int | None = strawberry.field(description="Null: no alert.")
    auto_close_enabled: bool
    auto_close_reminder_minutes: int | None = strawberry.field(description="Null: no reminder.")
    auto_close_minutes: int
    business_hours: BusinessHours | None = strawberry.field(description="Null: timers count around the clock.")

    @classmethod
    def from_view(cls, view: SettingsView) -> SlaSettings:
        rules = view.rules
        return cls(
            case_type_code=view.case_type.code,
            stage_dwell=[StageDwell(stage=stage, minutes=_minutes(rules.dwell.get(stage))) for stage in DWELL_STAGES],
            unanswered_comment_minutes=_minutes(rules.unanswered_comment),
            auto_close_enabled=rules.auto_close,
            auto_close_reminder_minutes=_minutes(rules.auto_close_reminder),
            auto_close_minutes=_minutes(rules.auto_close_after) or 0,
            business_hours=BusinessHours.from_calendar(view.business_hours) if view.business_hours else None,
        )


def _minutes(delta: timedelta | None) -> int | None:
    return None if delta is None else int(delta.total_seconds()) // 60
