from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from casegraph.domain.enums import CaseStage

if TYPE_CHECKING:
    from models.case import Case
    from models.case_type import CaseType
    from models.user import User


class Playbook(Model):
    """A case type's checklist definition. ``enforce_required_steps`` holds cases in a stage."""

    id = fields.IntField(primary_key=True)
    case_type: fields.OneToOneRelation[CaseType] = fields.OneToOneField(
        "models.CaseType", related_name="playbook", on_delete=fields.RESTRICT
    )
    enforce_required_steps = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    case_type_id: int

    class Meta:
        table = "playbooks"


class PlaybookStep(Model):
    """One step of a playbook: ordered by ``position`` within its stage."""

    id = fields.IntField(primary_key=True)
    playbook: fields.ForeignKeyRelation[Playbook] = fields.ForeignKeyField(
        "models.Playbook", related_name="steps", on_delete=fields.CASCADE
    )
    stage = fields.CharEnumField(CaseStage, max_length=16)
    position = fields.SmallIntField()
    title = fields.CharField(max_length=200)
    required = fields.BooleanField(default=True)

    playbook_id: int

    class Meta:
        table = "playbook_steps"
        unique_together = (("playbook", "stage", "position"),)


class CaseStep(Model):
    """A case's own copy of a playbook step, made when the case is submitted, and its progress."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="steps", on_delete=fields.RESTRICT
    )
    stage = fields.CharEnumField(CaseStage, max_length=16)
    position = fields.SmallIntField()
    title = fields.CharField(max_length=200)
    required = fields.BooleanField(default=True)
    done_at = fields.DatetimeField(null=True)
    done_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="done_steps", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()

    case_id: Any
    done_by_id: str | None

    class Meta:
        table = "case_steps"
        unique_together = (("case", "stage", "position"),)
