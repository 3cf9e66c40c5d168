"""SLA policies and settings per case type (ADMIN sets, staff read), and ``setAutoCloseExcluded``."""

from __future__ import annotations

from functools import partial
from typing import Any

import strawberry

from casegraph.domain.business_hours import CalendarError, build_calendar
from casegraph.domain.enums import CaseStage as DomainStage
from casegraph.domain.errors import validation_failed
from casegraph.services import sla_config
from casegraph.services.auto_close import set_auto_close_excluded as exclude_from_auto_close
from casegraph.services.sla_config import DWELL_COLUMNS, calendar_input_error
from models import SlaPolicy as SlaPolicyRow
from resolvers.pipeline import refusals_as_errors, run_case_change, run_mutation
from schema.context import Info
from schema.inputs import SetAutoCloseExcludedInput, SetSlaPolicyInput, SetSlaSettingsInput
from schema.payloads import CasePayload, SlaPolicyPayload, SlaSettingsPayload, case_payload, refused
from schema.types.sla import SlaPolicy, SlaSettings


async def sla_policies(info: Info, case_type_code: str | None) -> list[SlaPolicy]:
    with refusals_as_errors():
        found = await sla_config.sla_policies(actor=info.context.require_actor(), case_type_code=case_type_code)
    return [SlaPolicy.from_row(row, code) for row, code in found]


async def sla_settings(info: Info, case_type_code: str) -> SlaSettings:
    with refusals_as_errors():
        view = await sla_config.sla_settings(actor=info.context.require_actor(), case_type_code=case_type_code)
    return SlaSettings.from_view(view)


async def set_sla_policy(info: Info, input: SetSlaPolicyInput) -> SlaPolicyPayload:
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


async def set_sla_settings(info: Info, input: SetSlaSettingsInput) -> SlaSettingsPayload:
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


async def set_auto_close_excluded(info: Info, input: SetAutoCloseExcludedInput) -> CasePayload:
    change = partial(
        exclude_from_auto_close,
        case_id=str(input.case_id),
        excluded=input.excluded,
        expected_version=input.expected_version,
    )
    return await run_case_change(
        info, "setAutoCloseExcluded", input, refused=refused(CasePayload), change=change, done=case_payload
    )


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
            changes["business_hours"] = (
                None
                if hours is None
                else build_calendar(
                    timezone=hours.timezone,
                    windows=[(w.weekday, w.start, w.end) for w in hours.windows],
                    holidays=hours.holidays,
                )
            )
        except CalendarError as error:
            raise calendar_input_error(error) from None
    return changes
