"""Service definitions, case templates and required fields: the portal's catalogue and its
administration (ADMIN). The rules live in ``casegraph/services/intake.py``."""

from __future__ import annotations

from typing import Any

import strawberry

from casegraph.services import intake as catalogue
from resolvers.pipeline import run_mutation
from schema.context import Info
from schema.inputs import (
    CreateCaseTemplateInput,
    CreateServiceDefinitionInput,
    SetCaseTypeRequiredFieldsInput,
    UpdateCaseTemplateInput,
    UpdateServiceDefinitionInput,
)
from schema.payloads import CaseTemplatePayload, CaseTypePayload, ServiceDefinitionPayload, refused
from schema.types.case_type import CaseType
from schema.types.intake import CaseTemplate, ServiceDefinition


async def service_definitions(info: Info, include_inactive: bool) -> list[ServiceDefinition]:
    actor = info.context.require_actor()
    rows = await catalogue.list_service_definitions(actor=actor, include_inactive=include_inactive)
    return [ServiceDefinition.from_row(row) for row in rows]


async def service_definition(info: Info, code: str) -> ServiceDefinition | None:
    row = await catalogue.find_service_definition(actor=info.context.require_actor(), code=code)
    return ServiceDefinition.from_row(row) if row is not None else None


async def case_templates(info: Info, case_type_code: str | None, include_inactive: bool) -> list[CaseTemplate]:
    actor = info.context.require_actor()
    rows = await catalogue.list_templates(actor=actor, case_type_code=case_type_code, include_inactive=include_inactive)
    return [CaseTemplate.from_row(row) for row in rows]


async def create_service_definition(info: Info, input: CreateServiceDefinitionInput) -> ServiceDefinitionPayload:
    return await run_mutation(
        info,
        refused=refused(ServiceDefinitionPayload),
        call=lambda actor: catalogue.create_service_definition(
            actor=actor,
            code=input.code,
            name=input.name,
            case_type_code=input.case_type_code,
            description=input.description,
            template_code=input.template_code,
            public=input.public,
            active=input.active,
            now=info.context.clock(),
        ),
        done=lambda row: ServiceDefinitionPayload(service_definition=ServiceDefinition.from_row(row)),
    )


async def update_service_definition(info: Info, input: UpdateServiceDefinitionInput) -> ServiceDefinitionPayload:
    changes = catalogue.ServiceDefinitionChanges(**_given(input))
    return await run_mutation(
        info,
        refused=refused(ServiceDefinitionPayload),
        call=lambda actor: catalogue.update_service_definition(
            actor=actor, code=input.code, changes=changes, now=info.context.clock()
        ),
        done=lambda row: ServiceDefinitionPayload(service_definition=ServiceDefinition.from_row(row)),
    )


async def create_case_template(info: Info, input: CreateCaseTemplateInput) -> CaseTemplatePayload:
    return await run_mutation(
        info,
        refused=refused(CaseTemplatePayload),
        call=lambda actor: catalogue.create_template(
            actor=actor,
            code=input.code,
            name=input.name,
            case_type_code=input.case_type_code,
            title=input.title,
            description=input.description,
            impact=input.impact,
            urgency=input.urgency,
            required_fields=input.required_fields,
            active=input.active,
            now=info.context.clock(),
        ),
        done=lambda row: CaseTemplatePayload(template=CaseTemplate.from_row(row)),
    )


async def update_case_template(info: Info, input: UpdateCaseTemplateInput) -> CaseTemplatePayload:
    changes = catalogue.TemplateChanges(**_given(input))
    return await run_mutation(
        info,
        refused=refused(CaseTemplatePayload),
        call=lambda actor: catalogue.update_template(
            actor=actor, code=input.code, changes=changes, now=info.context.clock()
        ),
        done=lambda row: CaseTemplatePayload(template=CaseTemplate.from_row(row)),
    )


async def set_case_type_required_fields(info: Info, input: SetCaseTypeRequiredFieldsInput) -> CaseTypePayload:
    return await run_mutation(
        info,
        refused=refused(CaseTypePayload),
        call=lambda actor: catalogue.set_required_fields(
            actor=actor,
            case_type_code=input.case_type_code,
            required_fields=input.required_fields,
            now=info.context.clock(),
        ),
        done=lambda row: CaseTypePayload(case_type=CaseType.from_row(row)),
    )


def _given(input: Any) -> dict[str, Any]:
    """The fields a client sent, for partial updates (the others keep their values)."""
    return {name: value for name, value in vars(input).items() if value is not strawberry.UNSET and name != "code"}
