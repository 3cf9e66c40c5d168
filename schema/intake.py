"""Service definitions, case templates and required fields: the portal's catalogue and its
administration (ADMIN), resolved by ``resolvers/intake.py``; the types are ``schema/types/intake.py``.
``createCase`` takes ``serviceDefinitionCode`` / ``templateCode``."""

from __future__ import annotations

import strawberry

from resolvers import intake
from schema.context import Info
from schema.inputs import (
    CreateCaseTemplateInput,
    CreateServiceDefinitionInput,
    SetCaseTypeRequiredFieldsInput,
    UpdateCaseTemplateInput,
    UpdateServiceDefinitionInput,
)
from schema.payloads import CaseTemplatePayload, CaseTypePayload, ServiceDefinitionPayload
from schema.types.intake import CaseTemplate, ServiceDefinition


@strawberry.type
class IntakeQuery:
    @strawberry.field(
        description="Services filed under: active ones (constituents see the public ones, staff internal ones "
        "too); `includeInactive` for ADMIN."
    )
    async def service_definitions(self, info: Info, include_inactive: bool = False) -> list[ServiceDefinition]:
        return await intake.service_definitions(info, include_inactive)

    @strawberry.field(description="One service definition by code, as `serviceDefinitions` would list it.")
    async def service_definition(self, info: Info, code: str) -> ServiceDefinition | None:
        return await intake.service_definition(info, code)

    @strawberry.field(description="Active case templates (of one case type if given); `includeInactive` for ADMIN.")
    async def case_templates(
        self, info: Info, case_type_code: str | None = None, include_inactive: bool = False
    ) -> list[CaseTemplate]:
        return await intake.case_templates(info, case_type_code, include_inactive)


@strawberry.type
class IntakeMutation:
    @strawberry.mutation(description="Offer a service to the public (ADMIN).")
    async def create_service_definition(
        self, info: Info, input: CreateServiceDefinitionInput
    ) -> ServiceDefinitionPayload:
        return await intake.create_service_definition(info, input)

    @strawberry.mutation(description="Change a service definition (ADMIN).")
    async def update_service_definition(
        self, info: Info, input: UpdateServiceDefinitionInput
    ) -> ServiceDefinitionPayload:
        return await intake.update_service_definition(info, input)

    @strawberry.mutation(description="Create a case template (ADMIN).")
    async def create_case_template(self, info: Info, input: CreateCaseTemplateInput) -> CaseTemplatePayload:
        return await intake.create_case_template(info, input)

    @strawberry.mutation(description="Change a case template (ADMIN).")
    async def update_case_template(self, info: Info, input: UpdateCaseTemplateInput) -> CaseTemplatePayload:
        return await intake.update_case_template(info, input)

    @strawberry.mutation(description="Replace the fields a case type requires at submission (ADMIN).")
    async def set_case_type_required_fields(self, info: Info, input: SetCaseTypeRequiredFieldsInput) -> CaseTypePayload:
        return await intake.set_case_type_required_fields(info, input)
