"""SLA configuration per case type: targets per priority, alert settings, business hours.

``ADMIN`` sets them (``set_sla_policy``, ``set_sla_settings``); staff read them. Targets are
taken when a case is submitted (and again when its priority changes), so a policy changed later
applies to cases submitted from then on; alert settings are read when an alert is planned and
again when it is due.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from casegraph.database import statements
from casegraph.domain.business_hours import Calendar, CalendarError, WeeklyCalendar, calendar_from_json
from casegraph.domain.enums import CaseStage, Role, Workflow
from casegraph.domain.errors import permission_denied, validation_failed
from casegraph.domain.relations import Actor
from casegraph.domain.sla import PRIORITIES, AlertRules, Overrides, TimerKind, effective_rules
from casegraph.domain.validation import clean_text
from casegraph.services.admin import require_admin
from casegraph.services.timer_rows import timer_of
from models import CaseTimer, CaseType, SlaPolicy, SlaSettings

# Ten years: anything longer is a typo, and it keeps deadlines far inside datetime's range.
MAX_MINUTES: Final = 10 * 366 * 24 * 60
DWELL_COLUMNS: Final[Mapping[CaseStage, str]] = {
    CaseStage.INTAKE: "dwell_intake_minutes",
    CaseStage.REVIEW: "dwell_review_minutes",
    CaseStage.PROCESS: "dwell_process_minutes",
    CaseStage.DECISION: "dwell_decision_minutes",
}
SETTING_COLUMNS: Final = frozenset(
    {
        *DWELL_COLUMNS.values(),
        "unanswered_comment_minutes",
        "auto_close_enabled",
        "auto_close_reminder_minutes",
        "auto_close_minutes",
        "business_hours",
    }
)


@dataclass(frozen=True)
class CaseTypeSla:
    """What timers and alerts of one case type are computed with."""

    calendar: Calendar
    rules: AlertRules
    settings: SlaSettings | None


def overrides_of(settings: SlaSettings | None) -> Overrides:
    if settings is None:
        return Overrides()
    return Overrides(
        dwell_minutes={stage: getattr(settings, column) for stage, column in DWELL_COLUMNS.items()},
        unanswered_comment_minutes=settings.unanswered_comment_minutes,
        auto_close_enabled=settings.auto_close_enabled,
        auto_close_reminder_minutes=settings.auto_close_reminder_minutes,
        auto_close_minutes=settings.auto_close_minutes,
    )


async def case_type_sla(case_type_id: int | None, workflow: Workflow) -> CaseTypeSla:
    settings = None if case_type_id is None else await statements.fetch_one(SlaSettings, {"case_type_id": case_type_id})
    calendar = calendar_from_json(settings.business_hours if settings else None)
    return CaseTypeSla(calendar=calendar, rules=effective_rules(workflow, overrides_of(settings)), settings=settings)


async def policy_targets(case_type_id: int | None, priority: int) -> dict[TimerKind, timedelta] | None:
    """The targets for this case type and priority; None when no policy covers them."""
    if case_type_id is None:
        return None
    policy = await statements.fetch_one(SlaPolicy, {"case_type_id": case_type_id, "priority": priority})
    if policy is None:
        return None
    targets = {}
    if policy.response_minutes is not None:
        targets[TimerKind.RESPONSE] = timedelta(minutes=policy.response_minutes)
    if policy.resolution_minutes is not None:
        targets[TimerKind.RESOLUTION] = timedelta(minutes=policy.resolution_minutes)
    return targets


def require_staff_or_admin(actor: Actor) -> None:
    if not (actor.is_staff or actor.has(Role.ADMIN)):
        raise permission_denied("Only staff may read SLA configuration.")


async def case_type_by_code(code: str) -> CaseType:
    cleaned = clean_text("caseTypeCode", code, required=True, limit=64)
    case_type = await CaseType.get_or_none(code=cleaned)
    if case_type is None:
        raise validation_failed("caseTypeCode", "No case type has that code.")
    return case_type


def _minutes(field: str, value: int | None, *, minimum: int) -> int | None:
    if value is not None and not minimum <= value <= MAX_MINUTES:
        raise validation_failed(field, f"{field} must be between {minimum} and {MAX_MINUTES} minutes.")
    return value


async def set_sla_policy(
    *,
    actor: Actor,
    case_type_code: str,
    priority: int,
    response_minutes: int | None,
    resolution_minutes: int | None,
    now: datetime,
) -> SlaPolicy | None:
    """Create or replace the targets of one case type and priority; both null removes the policy."""
    require_admin(actor)
    case_type = await case_type_by_code(case_type_code)
    if priority not in PRIORITIES:
        raise validation_failed("priority", "priority must be between 1 (critical) and 5 (planning).")
    response = _minutes("responseMinutes", response_minutes, minimum=1)
    resolution = _minutes("resolutionMinutes", resolution_minutes, minimum=1)
    if response is None and resolution is None:
        await SlaPolicy.filter(case_type_id=case_type.id, priority=priority).delete()
        return None
    policy, created = await SlaPolicy.get_or_create(
        case_type_id=case_type.id,
        priority=priority,
        defaults={"response_minutes": response, "resolution_minutes": resolution, "updated_at": now},
    )
    if not created:
        policy.response_minutes = response
        policy.resolution_minutes = resolution
        policy.updated_at = now
        await policy.save(update_fields=["response_minutes", "resolution_minutes", "updated_at"])
    return policy


async def sla_policies(*, actor: Actor, case_type_code: str | None) -> list[tuple[SlaPolicy, str]]:
    """Policies with their case type's code, by case type code then priority."""
    require_staff_or_admin(actor)
    query = SlaPolicy.all()
    if case_type_code is not None:
        query = query.filter(case_type_id=(await case_type_by_code(case_type_code)).id)
    policies = await query
    codes = dict(await CaseType.filter(id__in=list({p.case_type_id for p in policies})).values_list("id", "code"))
    return sorted(((p, str(codes[p.case_type_id])) for p in policies), key=lambda pair: (pair[1], pair[0].priority))


@dataclass(frozen=True)
class SettingsView:
    case_type: CaseType
    rules: AlertRules
    business_hours: WeeklyCalendar | None


async def sla_settings(*, actor: Actor, case_type_code: str) -> SettingsView:
    require_staff_or_admin(actor)
    return await _settings_view(await case_type_by_code(case_type_code))


async def set_sla_settings(
    *, actor: Actor, case_type_code: str, changes: Mapping[str, Any], now: datetime
) -> SettingsView:
    """Change the given settings (column name → value; None restores a default; minutes of 0
    switch an alert off). ``business_hours`` is a WeeklyCalendar, or None for 24 × 7.

    A new calendar also re-plans the next deadline of every running timer of the case type.
    """
    require_admin(actor)
    unknown = set(changes) - SETTING_COLUMNS
    if unknown:
        raise ValueError(f"unknown SLA settings: {sorted(unknown)}")
    case_type = await case_type_by_code(case_type_code)
    values: dict[str, Any] = {}
    for column, value in changes.items():
        if column == "business_hours":
            values[column] = value.to_json() if isinstance(value, WeeklyCalendar) else None
        elif column == "auto_close_enabled":
            values[column] = bool(value)
        else:
            values[column] = _minutes(_camel(column), value, minimum=1 if column == "auto_close_minutes" else 0)
    settings, _ = await SlaSettings.get_or_create(case_type_id=case_type.id, defaults={"updated_at": now})
    for column, value in values.items():
        setattr(settings, column, value)
    reminder, close = settings.auto_close_reminder_minutes, settings.auto_close_minutes
    if reminder is not None and close is not None and reminder >= close:
        raise validation_failed("autoCloseReminderMinutes", "The reminder must come before the auto-close.")
    settings.updated_at = now
    await settings.save()
    if "business_hours" in values:
        await _replan_running_timers(case_type.id, calendar_from_json(settings.business_hours))
    return await _settings_view(case_type)


async def _replan_running_timers(case_type_id: int, calendar: Calendar) -> None:
    rows = await CaseTimer.filter(case__case_type_id=case_type_id, running_since__isnull=False)
    for row in rows:
        await CaseTimer.filter(id=row.id).update(next_due_at=timer_of(row).next_due_at(calendar))


async def _settings_view(case_type: CaseType) -> SettingsView:
    config = await case_type_sla(case_type.id, case_type.workflow)
    hours = config.calendar if isinstance(config.calendar, WeeklyCalendar) else None
    return SettingsView(case_type=case_type, rules=config.rules, business_hours=hours)


def calendar_input_error(error: CalendarError) -> Exception:
    return validation_failed(f"businessHours.{error.field}", str(error))


def _camel(column: str) -> str:
    head, *rest = column.split("_")
    return head + "".join(part.title() for part in rest)
