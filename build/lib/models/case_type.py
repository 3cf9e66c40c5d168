from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from casegraph.domain.enums import Workflow

if TYPE_CHECKING:
    from models.group import AssignmentGroup


class CaseType(Model):
    """What kind of request a case is, naming its workflow and the group that handles it."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    description = fields.TextField(null=True)
    workflow = fields.CharEnumField(Workflow, max_length=32)
    assignment_group: fields.ForeignKeyRelation[AssignmentGroup] = fields.ForeignKeyField(
        "models.AssignmentGroup", related_name="case_types", on_delete=fields.RESTRICT
    )
    auto_assign = fields.BooleanField(default=False)
    # Skills an agent must all have to be routed a case of this type.
    skills: fields.Field[list[str] | None] = fields.JSONField(null=True)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()

    assignment_group_id: int

    class Meta:
        table = "case_types"
