"""Case types: what kind of request a case is, its workflow, group, required fields and playbook."""

from __future__ import annotations

import strawberry

from models import CaseType as CaseTypeRow
from resolvers import entities
from resolvers.feature_loaders import RequiredFieldsByCaseType
from resolvers.playbooks import case_type_playbook
from schema.context import Info
from schema.enums import CaseField, Workflow
from schema.types.people import AssignmentGroup, _group
from schema.types.playbooks import Playbook


@strawberry.federation.type(keys=["code"], description="A kind of request; names its workflow and handling group.")
class CaseType:
    id: strawberry.ID
    code: str
    name: str
    description: str | None
    workflow: Workflow
    auto_assign: bool
    skills: list[str] = strawberry.field(description="Skills an agent needs to be routed cases of this type.")
    active: bool
    _group_id: strawberry.Private[int]

    @strawberry.field
    async def assignment_group(self, info: Info) -> AssignmentGroup:
        group = await _group(info, self._group_id)
        assert group is not None
        return group

    @strawberry.field(description="Fields every case of this type must have when submitted.")
    async def required_fields(self, info: Info) -> list[CaseField]:
        return list(await info.context.loaders[RequiredFieldsByCaseType].load(int(self.id)))

    @strawberry.field(description="The checklist per stage copied onto each submitted case, if any; staff only.")
    async def playbook(self, info: Info) -> Playbook | None:
        return await case_type_playbook(info, int(self.id))

    @classmethod
    async def resolve_reference(cls, info: Info, code: str) -> CaseType | None:
        row = await entities.case_type_by_code(info, code)
        return cls.from_row(row) if row is not None else None

    @classmethod
    def from_row(cls, row: CaseTypeRow) -> CaseType:
        return cls(
            id=strawberry.ID(str(row.id)),
            code=row.code,
            name=row.name,
            description=row.description,
            workflow=row.workflow,
            auto_assign=row.auto_assign,
            skills=list(row.skills or []),
            active=row.active,
            _group_id=row.assignment_group_id,
        )
