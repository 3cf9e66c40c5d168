"""SLAs over GraphQL: policies and settings per case type (ADMIN sets, staff read), and excluding
a case from auto-close (`setAutoCloseExcluded`). Each case's timers (`Case.slaTimers`) are
``schema/types/sla.py``, resolved by ``resolvers/sla.py``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import strawberry

from casegraph.domain.business_hours import CalendarError, Weekday, WeeklyCalendar, build_calendar
from casegraph.domain.enums import CaseStage as DomainStage
from casegraph.domain.errors import validation_failed
from casegraph.domain.sla import DWELL_STAGES
from casegraph.services import sla_config
from casegraph.services.auto_close import set_auto_close_excluded
from casegraph.services.sla_config import DWELL_COLUMNS, SettingsView, calendar_input_error
from models import SlaPolicy as SlaPolicyRow
from resolvers.pipeline import refusals_as_errors, run_case_change, run_mutation
from schema.context import Info
from schema.enums import CaseStage
from schema.inputs import CASE_ID, EXPECTED_VERSION, IDEMPOTENCY_KEY
from schema.payloads import CasePayload, case_payload, refused
from schema.types.case import Case
from schema.types.common import UserError

strawberry.enum(Weekday, description="A day of the week.")


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
            case_type_code=code, priority=row.priority, response_minutes=row.response_minutes,
            resolution_minutes=row.resolution_minutes, updated_at=row.updated_at,
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
            windows=[BusinessHoursWindow(weekday=Weekday(w["weekday"]), start=w["start"], end=w["end"]) for w in data["windows"]],
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


@strawberry.input
class SetSlaPolicyInput:
    case_type_code: str
    priority: int = strawberry.field(description="1 (critical) … 5 (planning).")
    response_minutes: int | None = strawberry.field(default=None, description="Null: no response target.")
    resolution_minutes: int | None = strawberry.field(
        default=None, description="Null: no resolution target. Both null removes the policy."
    )


@strawberry.input
class StageDwellInput:
    stage: CaseStage
    minutes: int | None = strawberry.field(default=None, description="Null: the default; 0: no alert.")


@strawberry.input
class BusinessHoursWindowInput:
    weekday: Weekday
    start: str = strawberry.field(description="HH:MM")
    end: str = strawberry.field(description="HH:MM (24:00 for midnight)")


@strawberry.input
class BusinessHoursInput:
    timezone: str = strawberry.field(description="An IANA time zone, e.g. Europe/Paris.")
    windows: list[BusinessHoursWindowInput]
    holidays: list[date] = strawberry.field(default_factory=list)


@strawberry.input(description="Fields left out stay as they are; null restores a default.")
class SetSlaSettingsInput:
    case_type_code: str
    stage_dwell: list[StageDwellInput] | None = strawberry.UNSET
    unanswered_comment_minutes: int | None = strawberry.field(
        default=strawberry.UNSET, description="Null: the default; 0: no alert."
    )
    auto_close_enabled: bool | None = strawberry.UNSET
    auto_close_reminder_minutes: int | None = strawberry.field(
        default=strawberry.UNSET, description="Null: the default (5 days); 0: no reminder."
    )
    auto_close_minutes: int | None = strawberry.field(default=strawberry.UNSET, description="Null: the default (10 days).")
    business_hours: BusinessHoursInput | None = strawberry.field(
        default=strawberry.UNSET, description="Null: count around the clock."
    )


@strawberry.input
class SetAutoCloseExcludedInput:
    case_id: strawberry.ID = strawberry.field(description=CASE_ID)
    excluded: bool
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type
class SlaPolicyPayload:
    policy: SlaPolicy | None = strawberry.field(default=None, description="Null when the policy was removed.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SlaSettingsPayload:
    settings: SlaSettings | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _settings_changes(input: SetSlaSettingsInput) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if input.stage_dwell is not strawberry.UNSET:
        for entry in input.stage_dwell or []:
            stage = DomainStage(entry.stage)
            if stage not in DWELL_COLUMNS:
                raise validation_failed("stageDwell", f"{stage.value} has no dwell alert.")
            changes[DWELL_COLUMNS[stage]] = entry.minutes
    for name in ("unanswered_comment_minutes", "auto_close_reminder_minutes", "auto_close_minutes"):
        value = getattr(input, name)
        if value is not strawberry.UNSET:
            changes[name] = value
    if input.auto_close_enabled is not strawberry.UNSET:
        changes["auto_close_enabled"] = bool(input.auto_close_enabled)
    if input.business_hours is not strawberry.UNSET:
        hours = input.business_hours
        try:
            changes["business_hours"] = None if hours is None else build_calendar(
                timezone=hours.timezone,
                windows=[(w.weekday, w.start, w.end) for w in hours.windows],
                holidays=hours.holidays,
            )
        except CalendarError as error:
            raise calendar_input_error(error) from None
    return changes


@strawberry.type
class SlaQuery:
    @strawberry.field(description="SLA targets per case type and priority (staff and ADMIN).")
    async def sla_policies(self, info: Info, case_type_code: str | None = None) -> list[SlaPolicy]:
        with refusals_as_errors():
            found = await sla_config.sla_policies(actor=info.context.require_actor(), case_type_code=case_type_code)
        return [SlaPolicy.from_row(row, code) for row, code in found]

    @strawberry.field(description="A case type's alert settings and business hours (staff and ADMIN).")
    async def sla_settings(self, info: Info, case_type_code: str) -> SlaSettings:
        with refusals_as_errors():
            view = await sla_config.sla_settings(actor=info.context.require_actor(), case_type_code=case_type_code)
        return SlaSettings.from_view(view)


@strawberry.type
class SlaMutation:
    @strawberry.mutation(description="Set (or, with both targets null, remove) the SLA targets of a case type and priority (ADMIN).")
    async def set_sla_policy(self, info: Info, input: SetSlaPolicyInput) -> SlaPolicyPayload:
        def payload(policy: SlaPolicyRow | None) -> SlaPolicyPayload:
            if policy is None:
                return SlaPolicyPayload()
            return SlaPolicyPayload(policy=SlaPolicy.from_row(policy, input.case_type_code.strip()))

        return await run_mutation(
            info,
            refused=refused(SlaPolicyPayload),
            call=lambda actor: sla_config.set_sla_policy(
                actor=actor,
                case_type_code=input.case_type_code,
                priority=input.priority,
                response_minutes=input.response_minutes,
                resolution_minutes=input.resolution_minutes,
                now=info.context.clock(),
            ),
            done=payload,
        )

    @strawberry.mutation(description="Stage dwell, unanswered-comment and auto-close settings and business hours of a case type (ADMIN).")
    async def set_sla_settings(self, info: Info, input: SetSlaSettingsInput) -> SlaSettingsPayload:
        return await run_mutation(
            info,
            refused=refused(SlaSettingsPayload),
            call=lambda actor: sla_config.set_sla_settings(
                actor=actor,
                case_type_code=input.case_type_code,
                changes=_settings_changes(input),
                now=info.context.clock(),
            ),
            done=lambda view: SlaSettingsPayload(settings=SlaSettings.from_view(view)),
        )

    @strawberry.mutation(description="Exclude a case from auto-close, or include it again (the assigned agent or a manager).")
    async def set_auto_close_excluded(self, info: Info, input: SetAutoCloseExcludedInput) -> CasePayload:
        change = partial(
            set_auto_close_excluded,
            case_id=str(input.case_id), excluded=input.excluded, expected_version=input.expected_version,
        )
        return await run_case_change(
            info, "setAutoCloseExcluded", input, refused=refused(CasePayload), change=change, done=case_payload
        )
