"""The portal's catalogue: service definitions and the case templates that pre-fill new cases."""

from __future__ import annotations

from datetime import datetime

import strawberry

from casegraph.domain.intake import normalize
from models import CaseTemplate as TemplateRow
from models import ServiceDefinition as ServiceDefinitionRow
from resolvers.feature_loaders import RequiredFieldsByCaseType, TemplateById
from resolvers.loaders import CaseTypeById
from schema.context import Info
from schema.enums import CaseField
from schema.types.case_type import CaseType


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
