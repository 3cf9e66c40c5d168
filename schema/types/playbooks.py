"""Playbooks: a case type's checklist per stage, and each case's copy with progress."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import CaseStep as CaseStepRow
from resolvers.loaders import UserById
from schema.context import Info
from schema.enums import CaseStage
from schema.types.people import User


@strawberry.type(description="One step of a case type's playbook.")
class PlaybookStep:
    stage: CaseStage
    position: int = strawberry.field(description="1, 2, … within its stage.")
    title: str
    required: bool


@strawberry.type(description="A case type's checklist: ordered steps per stage, copied onto each submitted case.")
class Playbook:
    enforce_required_steps: bool = strawberry.field(
        description="A case cannot leave a stage while required steps of that stage are open."
    )
    steps: list[PlaybookStep]


@strawberry.type(description="A step of a case's checklist and whether it is done.")
class CaseStep:
    id: strawberry.ID
    stage: CaseStage
    position: int
    title: str
    required: bool
    done: bool
    done_at: datetime | None
    _done_by_id: strawberry.Private[str | None]

    @strawberry.field(description="Who ticked the step off.")
    async def done_by(self, info: Info) -> User | None:
        if self._done_by_id is None:
            return None
        row = await info.context.loaders[UserById].load(self._done_by_id)
        return User.from_row(row) if row is not None else None

    @classmethod
    def from_row(cls, row: CaseStepRow) -> CaseStep:
        return cls(
            id=strawberry.ID(str(row.id)),
            stage=row.stage,
            position=row.position,
            title=row.title,
            required=row.required,
            done=row.done_at is not None,
            done_at=row.done_at,
            _done_by_id=row.done_by_id,
        )


@strawberry.type(description="Checklist progress of one stage of a case.")
class CasePlaybookStage:
    stage: CaseStage
    current: bool = strawberry.field(description="The case is in this stage now.")
    total: int
    done: int
    required_open: int = strawberry.field(description="Required steps not done yet.")
    steps: list[CaseStep]


@strawberry.type(description="A case's checklist with progress.")
class CasePlaybook:
    enforce_required_steps: bool
    total: int
    done: int
    required_open: int
    stages: list[CasePlaybookStage]
