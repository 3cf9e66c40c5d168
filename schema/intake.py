"""Service definitions, case templates and required fields: the portal's catalogue and its
administration (ADMIN). ``createCase`` takes ``serviceDefinitionCode`` / ``templateCode``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from casegraph.domain.intake import CaseField, normalize
from casegraph.services import intake
from models import CaseTemplate as TemplateRow
from models import ServiceDefinition as ServiceDefinitionRow
from resolvers.feature_loaders import RequiredFieldsByCaseType, TemplateById
from resolvers.loaders import CaseTypeById
from resolvers.pipeline import run_mutation
from schema.context import Info
from schema.payloads import CaseTypePayload, refused
from schema.types.case_type import CaseType
from schema.types.common import UserError


async def required_fields_of_case_type(info: Info, case_type_id: int) -> list[CaseField]:
    """``CaseType.requiredFields``."""
    return list(await info.context.loaders[RequiredFieldsByCaseType].load(case_type_id))


async def _case_type(info: Info, case_type_id: int) -> CaseType:
    row = await info.context.loaders[CaseTypeById].load(case_type_id)
    assert row is not None
    return CaseType.from_row(row)


@strawberry.type(description="Pre-fills a new case of its case type and names fields it requires at submission.")
class CaseTemplate:
    id: strawberry.ID
    code: str
    name: str
    title: str | None = strawberry.field(description="The new case's title unless one is given.")
    description: str | None = strawberry.field(
        description="A description skeleton; left unchanged it does not count as a description."
    )
    impact: int | None
    urgency: int | None
    required_fields: list[CaseField] = strawberry.field(description="Required at submission, besides the case type's.")
    active: bool
    updated_at: datetime
    _case_type_id: strawberry.Private[int]

    @strawberry.field
    async def case_type(self, info: Info) -> CaseType:
        return await _case_type(info, self._case_type_id)

    @classmethod
    def from_row(cls, row: TemplateRow) -> CaseTemplate:
        return cls(
            id=strawberry.ID(str(row.id)),
            code=row.code,
            name=row.name,
            title=row.title,
            description=row.description,
            impact=row.impact,
            urgency=row.urgency,
            required_fields=list(normalize(row.required_fields or [])),
            active=row.active,
            updated_at=row.updated_at,
            _case_type_id=row.case_type_id,
        )


@strawberry.type(description='A service offered to the public ("Report a pothole"): files a case of its case type.')
class ServiceDefinition:
    id: strawberry.ID
    code: str
    name: str
    description: str | None
    public: bool = strawberry.field(description="Offered on the constituent portal; otherwise staff only.")
    active: bool
    _case_type_id: strawberry.Private[int]
    _template_id: strawberry.Private[int | None]

    @strawberry.field
    async def case_type(self, info: Info) -> CaseType:
        return await _case_type(info, self._case_type_id)

    @strawberry.field(description="The template new cases are pre-filled from, if any (and active).")
    async def template(self, info: Info) -> CaseTemplate | None:
        if self._template_id is None:
            return None
        row = await info.context.loaders[TemplateById].load(self._template_id)
        return CaseTemplate.from_row(row) if row is not None and row.active else None

    @strawberry.field(description="What a case filed under this service must have when submitted.")
    async def required_fields(self, info: Info) -> list[CaseField]:
        of_type = await info.context.loaders[RequiredFieldsByCaseType].load(self._case_type_id)
        template = await self.template(info)
        return list(normalize([*of_type, *(template.required_fields if template else [])]))

    @classmethod
    def from_row(cls, row: ServiceDefinitionRow) -> ServiceDefinition:
        return cls(
            id=strawberry.ID(str(row.id)),
            code=row.code,
            name=row.name,
            description=row.description,
            public=row.public,
            active=row.active,
            _case_type_id=row.case_type_id,
            _template_id=row.template_id,
        )


@strawberry.input
class CreateServiceDefinitionInput:
    code: str
    name: str
    case_type_code: str
    description: str | None = None
    template_code: str | None = strawberry.field(default=None, description="A template of the same case type.")
    public: bool = True
    active: bool = True


@strawberry.input(
    description="Change a service definition; omitted fields stay as they are, `templateCode: null` drops the template."
)
class UpdateServiceDefinitionInput:
    code: str
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    case_type_code: str | None = strawberry.UNSET
    template_code: str | None = strawberry.UNSET
    public: bool | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.input
class CreateCaseTemplateInput:
    code: str
    name: str
    case_type_code: str
    title: str | None = None
    description: str | None = None
    impact: int | None = None
    urgency: int | None = None
    required_fields: list[CaseField] = strawberry.field(default_factory=list)
    active: bool = True


@strawberry.input(
    description="Change a case template; omitted fields stay as they are, null clears. Its case type stays."
)
class UpdateCaseTemplateInput:
    code: str
    name: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    impact: int | None = strawberry.UNSET
    urgency: int | None = strawberry.UNSET
    required_fields: list[CaseField] | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.input(description="Replace the fields every case of the type must have when submitted.")
class SetCaseTypeRequiredFieldsInput:
    case_type_code: str
    required_fields: list[CaseField]


@strawberry.type
class ServiceDefinitionPayload:
    service_definition: ServiceDefinition | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CaseTemplatePayload:
    template: CaseTemplate | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _given(input: Any) -> dict[str, Any]:
    """The fields a client sent, for partial updates (the others keep their values)."""
    return {name: value for name, value in vars(input).items() if value is not strawberry.UNSET and name != "code"}


@strawberry.type
class IntakeQuery:
    @strawberry.field(
        description="Services filed under: active ones (constituents see the public ones, staff internal ones "
        "too); `includeInactive` for ADMIN."
    )
    async def service_definitions(self, info: Info, include_inactive: bool = False) -> list[ServiceDefinition]:
        actor = info.context.require_actor()
        rows = await intake.list_service_definitions(actor=actor, include_inactive=include_inactive)
        return [ServiceDefinition.from_row(row) for row in rows]

    @strawberry.field(description="One service definition by code, as `serviceDefinitions` would list it.")
    async def service_definition(self, info: Info, code: str) -> ServiceDefinition | None:
        row = await intake.find_service_definition(actor=info.context.require_actor(), code=code)
        return ServiceDefinition.from_row(row) if row is not None else None

    @strawberry.field(description="Active case templates (of one case type if given); `includeInactive` for ADMIN.")
    async def case_templates(
        self, info: Info, case_type_code: str | None = None, include_inactive: bool = False
    ) -> list[CaseTemplate]:
        actor = info.context.require_actor()
        rows = await intake.list_templates(
            actor=actor, case_type_code=case_type_code, include_inactive=include_inactive
        )
        return [CaseTemplate.from_row(row) for row in rows]


@strawberry.type
class IntakeMutation:
    @strawberry.mutation(description="Offer a service to the public (ADMIN).")
    async def create_service_definition(
        self, info: Info, input: CreateServiceDefinitionInput
    ) -> ServiceDefinitionPayload:
        return await run_mutation(
            info,
            refused=refused(ServiceDefinitionPayload),
            call=lambda actor: intake.create_service_definition(
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

    @strawberry.mutation(description="Change a service definition (ADMIN).")
    async def update_service_definition(
        self, info: Info, input: UpdateServiceDefinitionInput
    ) -> ServiceDefinitionPayload:
        changes = intake.ServiceDefinitionChanges(**_given(input))
        return await run_mutation(
            info,
            refused=refused(ServiceDefinitionPayload),
            call=lambda actor: intake.update_service_definition(
                actor=actor, code=input.code, changes=changes, now=info.context.clock()
            ),
            done=lambda row: ServiceDefinitionPayload(service_definition=ServiceDefinition.from_row(row)),
        )

    @strawberry.mutation(description="Create a case template (ADMIN).")
    async def create_case_template(self, info: Info, input: CreateCaseTemplateInput) -> CaseTemplatePayload:
        return await run_mutation(
            info,
            refused=refused(CaseTemplatePayload),
            call=lambda actor: intake.create_template(
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

    @strawberry.mutation(description="Change a case template (ADMIN).")
    async def update_case_template(self, info: Info, input: UpdateCaseTemplateInput) -> CaseTemplatePayload:
        changes = intake.TemplateChanges(**_given(input))
        return await run_mutation(
            info,
            refused=refused(CaseTemplatePayload),
            call=lambda actor: intake.update_template(
                actor=actor, code=input.code, changes=changes, now=info.context.clock()
            ),
            done=lambda row: CaseTemplatePayload(template=CaseTemplate.from_row(row)),
        )

    @strawberry.mutation(description="Replace the fields a case type requires at submission (ADMIN).")
    async def set_case_type_required_fields(self, info: Info, input: SetCaseTypeRequiredFieldsInput) -> CaseTypePayload:
        return await run_mutation(
            info,
            refused=refused(CaseTypePayload),
            call=lambda actor: intake.set_required_fields(
                actor=actor,
                case_type_code=input.case_type_code,
                required_fields=input.required_fields,
                now=info.context.clock(),
            ),
            done=lambda row: CaseTypePayload(case_type=CaseType.from_row(row)),
        )
