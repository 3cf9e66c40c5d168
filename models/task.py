from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from casegraph.domain.enums import TaskState

if TYPE_CHECKING:
    from models.case import Case
    from models.user import User


class CaseTask(Model):
    """A work-order line of a case (ASSIGN_WORK creates them)."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="tasks", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=200)
    assignee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="tasks", null=True, on_delete=fields.RESTRICT
    )
    state = fields.CharEnumField(TaskState, max_length=16, default=TaskState.OPEN)
    due_at = fields.DatetimeField(null=True)
    note = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    finished_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="finished_tasks", null=True, on_delete=fields.RESTRICT
    )

    case_id: Any
    assignee_id: str | None
    finished_by_id: str | None

    class Meta:
        table = "case_tasks"
        indexes = (("case_id",), ("assignee_id",))
