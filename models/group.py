from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.user import User


class AssignmentGroup(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField()

    class Meta:
        table = "assignment_groups"


class GroupMembership(Model):
    """An agent in a group. ``is_manager`` makes them a manager of that group."""

    id = fields.IntField(primary_key=True)
    group: fields.ForeignKeyRelation[AssignmentGroup] = fields.ForeignKeyField(
        "models.AssignmentGroup", related_name="memberships", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.CASCADE
    )
    is_manager = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()

    group_id: int
    user_id: str

    class Meta:
        table = "group_memberships"
        unique_together = (("group", "user"),)
        indexes = (("user_id",),)  # an actor's groups are read on every request
