"""SLAs over GraphQL: policies and settings per case type (ADMIN sets, staff read), and excluding
a case from auto-close (`setAutoCloseExcluded`), resolved by ``resolvers/sla_settings.py``. The
types are ``schema/types/sla.py``; each case's timers (`Case.slaTimers`) ``resolvers/sla.py``."""

from __future__ import annotations

import strawberry

from resolvers import sla_settings
from schema.context import Info
from schema.inputs import SetAutoCloseExcludedInput, SetSlaPolicyInput, SetSlaSettingsInput
from schema.payloads import CasePayload, SlaPolicyPayload, SlaSettingsPayload
from schema.types.sla import SlaPolicy, SlaSettings


@strawberry.type
class SlaQuery:
    @strawberry.field(description="SLA targets per case type and priority (staff and ADMIN).")
    async def sla_policies(self, info: Info, case_type_code: str | None = None) -> list[SlaPolicy]:
        return await sla_settings.sla_policies(info, case_type_code)

    @strawberry.field(description="A case type's alert settings and business hours (staff and ADMIN).")
    async def sla_settings(self, info: Info, case_type_code: str) -> SlaSettings:
        return await sla_settings.sla_settings(info, case_type_code)


@strawberry.type
class SlaMutation:
    @strawberry.mutation(
        description="Set (or, with both targets null, remove) the SLA targets of a case type and priority (ADMIN)."
    )
    async def set_sla_policy(self, info: Info, input: SetSlaPolicyInput) -> SlaPolicyPayload:
        return await sla_settings.set_sla_policy(info, input)

    @strawberry.mutation(
        description="Stage dwell, unanswered-comment and auto-close settings and business hours of a case type (ADMIN)."
    )
    async def set_sla_settings(self, info: Info, input: SetSlaSettingsInput) -> SlaSettingsPayload:
        return await sla_settings.set_sla_settings(info, input)

    @strawberry.mutation(
        description="Exclude a case from auto-close, or include it again (the assigned agent or a manager)."
    )
    async def set_auto_close_excluded(self, info: Info, input: SetAutoCloseExcludedInput) -> CasePayload:
        return await sla_settings.set_auto_close_excluded(info, input)
